import Foundation
import SOSRealtime

/// permessage-deflate (RFC 7692) negotiation at the upgrade, as the server does it: both directions without context
/// takeover (the server may require that of the client too, §7.1.1.2), so no zlib state survives between messages and
/// an idle socket holds none; the server compresses with a 9-bit window and accepts the client's up to `maxWindow`.
/// The compression itself is `PerMessageDeflate` (SOSRealtime).
///
/// Written here rather than taken from HummingbirdWSCompression because that extension keeps a compressor and a
/// decompressor per socket for its whole life (≈ 12–16 KB of zlib state per idle socket, measured).
struct DeflateNegotiation: Equatable {
    /// The window the client compresses with: what it offered (`client_max_window_bits`), capped, or 15.
    let receiveWindow: Int
    /// The `Sec-WebSocket-Extensions` response header.
    let responseHeader: String

    /// The client's window is capped at this many bits when it offers to limit it.
    static let maxWindow = 9

    /// The answer to a request's `Sec-WebSocket-Extensions` header values; nil when permessage-deflate is not offered.
    init?(offers headerValues: [String]) {
        guard let offer = Self.offers(headerValues).first(where: { $0.name == "permessage-deflate" }) else { return nil }
        var header = "permessage-deflate;client_no_context_takeover;server_no_context_takeover"
        // step: client_max_window_bits only when the client offered it (§7.1.2.2); the server may always cap its own
        if let offered = offer.parameters["client_max_window_bits"] {
            let window = min(Int(offered ?? "") ?? 15, Self.maxWindow)
            header += ";client_max_window_bits=\(window)"
            self.receiveWindow = window
        } else {
            self.receiveWindow = 15
        }
        header += ";server_max_window_bits=\(PerMessageDeflate.sendWindow)"
        self.responseHeader = header
    }

    /// `name; key=value; flag, other` → the extensions offered, in order (values unquoted).
    static func offers(_ headerValues: [String]) -> [(name: String, parameters: [String: String?])] {
        headerValues.flatMap { $0.split(separator: ",") }.compactMap { extensionText in
            let parts = extensionText.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first, !name.isEmpty else { return nil }
            var parameters: [String: String?] = [:]
            for part in parts.dropFirst() where !part.isEmpty {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                parameters.updateValue(pair.count == 2 ? pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) : nil, forKey: pair[0])
            }
            return (name.lowercased(), parameters)
        }
    }
}
