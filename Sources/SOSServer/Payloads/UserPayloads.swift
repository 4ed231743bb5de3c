import Foundation
import Hummingbird
import SOSDomain

/// The seed's user object as returned by sign-in (no timestamps).
struct UserSummaryPayload: Encodable, Sendable {
    let id: String
    let email: String
    let name: String
    let role: Role
    let profilePicture: String
    let isEmailVerified: Bool
    let isStatus: UserStatus
    let phone: String
    let associatedDoctors: [String]

    init(_ user: User) {
        self.id = user.id.apiString
        self.email = user.email ?? ""
        self.name = user.name
        self.role = user.role
        self.profilePicture = user.profilePicture ?? ""
        self.isEmailVerified = user.isEmailVerified
        self.isStatus = user.status
        self.phone = user.phone ?? ""
        self.associatedDoctors = user.associatedDoctors.map(\.apiString)
    }

    enum CodingKeys: String, CodingKey {
        case id, email, name, role
        case profilePicture = "profile_picture"
        case isEmailVerified = "is_email_verified"
        case isStatus = "is_status"
        case phone
        case associatedDoctors = "associated_doctors"
    }
}

/// The seed's user object with `created_at` and `updated_at` (profiles and lists).
struct UserPayload: Encodable, Sendable {
    let summary: UserSummaryPayload
    let createdAt: Date
    let updatedAt: Date

    init(_ user: User) {
        self.summary = UserSummaryPayload(user)
        self.createdAt = user.createdAt
        self.updatedAt = user.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        try self.summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.updatedAt, forKey: .updatedAt)
    }
}

/// `{"user": …}`.
struct UserEnvelope: ResponseEncodable, Sendable {
    let user: UserPayload
}

/// `{"message", "user"}`.
struct UserMessageEnvelope: ResponseEncodable, Sendable {
    let message: String
    let user: UserPayload
}

/// The seed's pagination object.
struct PaginationPayload: Encodable, Sendable {
    let page: Int
    let limit: Int
    let total: Int
    let totalPages: Int

    init<T>(_ page: Page<T>) {
        self.page = page.request.page
        self.limit = page.request.limit
        self.total = page.total
        self.totalPages = page.totalPages
    }
}

/// `GET /users`.
struct UserListPayload: ResponseEncodable, Sendable {
    let users: [UserPayload]
    let pagination: PaginationPayload
}

/// `{"message"}`.
struct MessagePayload: ResponseEncodable, Sendable {
    let message: String
}

/// Sign-in answer: the seed's `{message, access_token, user}` plus `refresh_token`.
struct AuthPayload: ResponseEncodable, Sendable {
    let message: String
    let accessToken: String
    let refreshToken: String
    let user: UserSummaryPayload

    init(message: String, session: AuthSession) {
        self.message = message
        self.accessToken = session.accessToken
        self.refreshToken = session.refreshToken
        self.user = UserSummaryPayload(session.user)
    }

    enum CodingKeys: String, CodingKey {
        case message
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case user
    }
}

extension UUID {
    /// Lower-case canonical form used in every response (written directly: `uuidString` goes through `sprintf`, and
    /// a page of appointments prints dozens of ids).
    var apiString: String {
        withUnsafeBytes(of: self.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                let hex = Self.hexDigits
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        text[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    text[position] = hex[Int(byte >> 4)]
                    text[position + 1] = hex[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
