import AsyncHTTPClient
import Foundation
import NIOCore
import SOSDomain

/// SMS and WhatsApp through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`).
struct TwilioSender: MessageSender {
    let accountSid: String
    let authToken: String
    /// The sender: an E.164 number (SMS) or `whatsapp:+…` (WhatsApp).
    let from: String
    let whatsapp: Bool
    let apiBase: String
    let client: HTTPClient

    func send(_ message: OutboxMessage) async throws {
        let to = self.whatsapp ? "whatsapp:" + message.recipient : message.recipient
        let from = self.whatsapp && !self.from.hasPrefix("whatsapp:") ? "whatsapp:" + self.from : self.from
        let path = "/2010-04-01/Accounts/\(FormEncoding.escape(self.accountSid))/Messages.json"
        var request = HTTPClientRequest(url: self.apiBase.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = .POST
        let credentials = Data("\(self.accountSid):\(self.authToken)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode([("To", to), ("From", from), ("Body", message.body)])))
        try await HTTPDelivery.execute(request, client: self.client, provider: "Twilio") { status, body in
            // step: Twilio's error JSON has `code` and `message`; 400s are refusals of this message (bad number…)
            let json = JSON.parse(String(buffer: body))
            let detail: String = if case .string(let text)? = json?["message"] { text } else { "HTTP \(status)" }
            return MessageDeliveryError(retryable: status == 401 || status == 403 || status == 429 || status >= 500, "Twilio: \(detail)")
        }
    }
}

/// Email through Postmark's API (`POST /email`, `X-Postmark-Server-Token`).
struct PostmarkSender: MessageSender {
    let serverToken: String
    let from: String
    let apiBase: String
    let client: HTTPClient

    func send(_ message: OutboxMessage) async throws {
        var request = HTTPClientRequest(url: self.apiBase.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/email")
        request.method = .POST
        request.headers.add(name: "X-Postmark-Server-Token", value: self.serverToken)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "application/json")
        let body: JSON = .object([
            "From": .string(self.from), "To": .string(message.recipient), "Subject": .string(message.subject ?? "SOS Tourist Doctor"),
            "TextBody": .string(message.body), "MessageStream": .string("outbound"),
        ])
        request.body = .bytes(ByteBuffer(string: body.text))
        try await HTTPDelivery.execute(request, client: self.client, provider: "Postmark") { status, body in
            let json = JSON.parse(String(buffer: body))
            let detail: String = if case .string(let text)? = json?["Message"] { text } else { "HTTP \(status)" }
            return MessageDeliveryError(retryable: status == 401 || status == 429 || status >= 500, "Postmark: \(detail)")
        }
    }
}

/// Development without providers: a message counts as sent once it is in the outbox (read it at
/// `GET /api/v1/dev/outbox`).
struct DevelopmentOutboxSender: MessageSender {
    func send(_ message: OutboxMessage) async throws {}
}

enum HTTPDelivery {
    /// Runs a provider request; network failures are retryable, non-2xx answers go through `refusal`.
    static func execute(_ request: HTTPClientRequest, client: HTTPClient, provider: String,
                        refusal: (Int, ByteBuffer) -> MessageDeliveryError) async throws {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(15))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw MessageDeliveryError(retryable: true, "\(provider) could not be reached: \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw refusal(Int(response.status.code), body)
        }
    }
}
