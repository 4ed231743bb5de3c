import Foundation
import Logging

/// Delivers one outbox message through an outside provider (Twilio, an email API…).
public protocol MessageSender: Sendable {
    /// Sends the message; throws `MessageDeliveryError` (retryable or not) when the provider did not take it.
    func send(_ message: OutboxMessage) async throws
}

/// Why a provider did not take a message.
public struct MessageDeliveryError: Error, CustomStringConvertible {
    /// Worth trying again later (provider down, 5xx, 429, network); false for a refused message (bad number…).
    public let retryable: Bool
    public let description: String

    public init(retryable: Bool, _ description: String) {
        self.retryable = retryable
        self.description = description
    }
}

/// Languages of the message templates. Tourists get messages in their language when we have it, else English.
public enum Language: String, Sendable, CaseIterable {
    case en
    case fr
    case es

    /// The best match for an explicit choice (`fr`, `es-MX`) or an `Accept-Language` header
    /// (`fr-CH, fr;q=0.9, en;q=0.8`), in that order of preference; English otherwise.
    public init(preferred choices: String?...) {
        for choice in choices.compactMap({ $0 }) {
            let ranked = choice.split(separator: ",").compactMap { item -> (String, Double)? in
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let tag = parts.first, !tag.isEmpty else { return nil }
                let quality = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
                return (tag.lowercased(), quality)
            }.sorted { $0.1 > $1.1 }
            for (tag, quality) in ranked where quality > 0 {
                let primary = String(tag.split(separator: "-").first ?? "")
                if let language = Language(rawValue: primary) {
                    self = language
                    return
                }
            }
        }
        self = .en
    }
}

/// The texts of outside messages, in each supported language.
public enum MessageTemplates {
    /// Subject of the sign-in code email.
    public static func codeSubject(_ language: Language) -> String {
        switch language {
        case .en: "Your SOS Tourist Doctor sign-in code"
        case .fr: "Votre code de connexion SOS Tourist Doctor"
        case .es: "Tu código de acceso a SOS Tourist Doctor"
        }
    }

    /// Body of a sign-in code message (email, SMS or WhatsApp).
    public static func codeBody(_ code: String, minutes: Int, _ language: Language) -> String {
        switch language {
        case .en: "Your SOS Tourist Doctor code is \(code). It expires in \(minutes) minutes. If you did not ask for it, ignore this message."
        case .fr: "Votre code SOS Tourist Doctor est \(code). Il expire dans \(minutes) minutes. Si vous ne l'avez pas demandé, ignorez ce message."
        case .es: "Tu código de SOS Tourist Doctor es \(code). Caduca en \(minutes) minutos. Si no lo has pedido, ignora este mensaje."
        }
    }

    /// Subject of a reminder email.
    public static func reminderSubject(_ language: Language) -> String {
        switch language {
        case .en: "Appointment reminder"
        case .fr: "Rappel de rendez-vous"
        case .es: "Recordatorio de cita"
        }
    }

    /// Body of an appointment reminder.
    public static func reminderBody(type: String, with name: String, date: String, time: String, _ language: Language) -> String {
        switch language {
        case .en: "Reminder: \(type) appointment with \(name) on \(date) at \(time) (doctor's local time)."
        case .fr: "Rappel : rendez-vous (\(type)) avec \(name) le \(date) à \(time) (heure locale du médecin)."
        case .es: "Recordatorio: cita (\(type)) con \(name) el \(date) a las \(time) (hora local del médico)."
        }
    }
}

/// Storage of the outbox's delivery state.
public protocol OutboxRepository: Sendable {
    /// Claims up to `limit` pending messages due by `now` (no other node gets them until `leaseUntil`).
    func claimDue(now: Date, leaseUntil: Date, limit: Int) async throws -> [OutboxMessage]
    /// Marks a pending message sent (`redact`: and blanks its body).
    func markSent(id: UUID, at: Date, redact: Bool) async throws
    /// Records a failed attempt of a pending message: retried at `nextAttemptAt`, or given up (`failed`) when that
    /// is nil (`redact`: then blanks its body).
    func markAttemptFailed(id: UUID, attempts: Int, error: String, nextAttemptAt: Date?, redact: Bool) async throws
    /// How many messages wait to be sent, and since when the oldest has (operators watch it in `/metrics`).
    func backlog() async throws -> OutboxBacklog
}

/// The outbox's pending messages: how many, and the creation time of the oldest (nil when none wait).
public struct OutboxBacklog: Sendable, Equatable {
    public let pending: Int
    public let oldestCreatedAt: Date?

    public init(pending: Int, oldestCreatedAt: Date?) {
        self.pending = pending
        self.oldestCreatedAt = oldestCreatedAt
    }
}

/// Delivers the outbox: every pending message goes to its channel's sender; failures are retried with
/// exponential backoff, so a provider outage delays messages but does not lose them.
public struct OutboxDispatcher: Sendable {
    let outbox: any OutboxRepository
    let senders: [OutboxMessage.Channel: any MessageSender]
    let retryBase: TimeInterval
    let maxAttempts: Int
    /// Blank a message's body once it is sent or given up (production); development keeps it for the dev outbox.
    let redact: Bool
    let now: @Sendable () -> Date
    /// The longest a provider call may take (the senders' HTTP timeout) plus a margin.
    static let sendTimeBound: TimeInterval = 16
    /// Messages claimed per round; the lease covers sending them one after another.
    public static let batchSize = 10

    public init(outbox: any OutboxRepository, senders: [OutboxMessage.Channel: any MessageSender], retryBase: TimeInterval = 5,
                maxAttempts: Int = 12, redact: Bool = false, now: @escaping @Sendable () -> Date = { Date() }) {
        self.outbox = outbox
        self.senders = senders
        self.retryBase = retryBase
        self.maxAttempts = maxAttempts
        self.redact = redact
        self.now = now
    }

    /// The wait before attempt `attempts + 1`: base × 2^(attempts − 1), at most an hour.
    public func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(3600, self.retryBase * pow(2, Double(max(0, attempts - 1))))
    }

    /// Sends what is due, one claimed batch of at most `limit`; returns how many messages went out.
    @discardableResult
    public func deliverDue(logger: Logger, limit: Int = Self.batchSize) async throws -> Int {
        let now = self.now()
        // step: the lease outlasts sending the whole batch one by one, so no other node claims a message meanwhile
        let lease = Double(limit) * Self.sendTimeBound + 30
        let due = try await self.outbox.claimDue(now: now, leaseUntil: now.addingTimeInterval(lease), limit: limit)
        var sent = 0
        for message in due {
            let attempts = message.attempts + 1
            if let expiry = message.expiresAt, expiry <= self.now() {
                try await self.giveUp(message, attempts: attempts, error: "Not delivered before it expired; nothing was sent.")
                continue
            }
            guard let sender = self.senders[message.channel] else {
                try await self.failed(message, attempts: attempts, retryable: true, error: "No provider is configured for \(message.channel.rawValue) messages.")
                continue
            }
            do {
                try await sender.send(message)
                try await self.outbox.markSent(id: message.id, at: self.now(), redact: self.redact)
                sent += 1
            } catch {
                let retryable = (error as? MessageDeliveryError)?.retryable ?? true
                logger.warning("Message delivery failed", metadata: [
                    "channel": "\(message.channel.rawValue)", "message": "\(message.id)", "attempt": "\(attempts)",
                    "retry": "\(retryable && attempts < self.maxAttempts)", "error": "\(error)",
                ])
                try await self.failed(message, attempts: attempts, retryable: retryable, error: String(describing: error).prefix(500).description)
            }
        }
        return sent
    }

    /// Schedules the next attempt with backoff, or gives up when the error is final or the attempts are spent.
    private func failed(_ message: OutboxMessage, attempts: Int, retryable: Bool, error: String) async throws {
        guard retryable, attempts < self.maxAttempts else {
            return try await self.giveUp(message, attempts: attempts, error: error)
        }
        try await self.outbox.markAttemptFailed(
            id: message.id, attempts: attempts, error: error,
            nextAttemptAt: self.now().addingTimeInterval(self.backoff(afterAttempts: attempts)), redact: self.redact
        )
    }

    private func giveUp(_ message: OutboxMessage, attempts: Int, error: String) async throws {
        try await self.outbox.markAttemptFailed(id: message.id, attempts: attempts, error: error, nextAttemptAt: nil, redact: self.redact)
    }
}
