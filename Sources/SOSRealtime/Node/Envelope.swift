import Foundation

/// What travels through the broker: a line `<kind> <node>` (so a node skips its own events without parsing
/// JSON), a one-line JSON header, a newline, then the event data exactly as rendered on the publishing node (so no
/// node re-encodes it).
struct Envelope: Codable {
    enum Kind: String, Codable {
        case event
        case revoke
        case presence
        case heartbeat
        /// A node that just started asks the others for their users' presence.
        case sync
        /// An answer to `sync`: `users` with their `statuses` on the sending node, in chunks; the `first` one replaces
        /// what was known of that node (users it no longer reports are offline there).
        case snapshot
    }

    var kind: Kind
    var node: String
    var type: String?
    var users: [UUID]?
    var admins: Bool?
    var origin: String?
    var ephemeral: Bool?
    var tokenKey: String?
    var status: PresenceStatus?
    var statuses: [PresenceStatus]?
    var first: Bool?
    var at: Date?

    init(kind: Kind, node: String, type: String? = nil, users: [UUID]? = nil, admins: Bool? = nil, origin: String? = nil, ephemeral: Bool? = nil,
         tokenKey: String? = nil, status: PresenceStatus? = nil, statuses: [PresenceStatus]? = nil, first: Bool? = nil, at: Date? = nil) {
        self.kind = kind
        self.node = node
        self.type = type
        self.users = users
        self.admins = admins
        self.origin = origin
        self.ephemeral = ephemeral
        self.tokenKey = tokenKey
        self.status = status
        self.statuses = statuses
        self.first = first
        self.at = at
    }

    static let encoder = JSONEncoder()
    static let decoder = JSONDecoder()

    func encoded(data: String?) -> String {
        let header = (try? String(decoding: Self.encoder.encode(self), as: UTF8.self)) ?? "{}"
        let message = self.kind.rawValue + " " + self.node + "\n" + header
        return data.map { message + "\n" + $0 } ?? message
    }

    /// The kind and node of an encoded envelope, read from its first line.
    static func peek(_ message: String) -> (kind: Substring, node: Substring)? {
        guard let lineEnd = message.firstIndex(of: "\n") else { return nil }
        let line = message[..<lineEnd]
        guard let space = line.firstIndex(of: " ") else { return nil }
        return (line[..<space], line[line.index(after: space)...])
    }

    static func decode(_ message: String) -> (Envelope, String?)? {
        let parts = message.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let envelope = try? Self.decoder.decode(Envelope.self, from: Data(parts[1].utf8)) else { return nil }
        return (envelope, parts.count > 2 ? String(parts[2]) : nil)
    }
}
