/// What a user is in the system; decides what they may do (see `AccessPolicy`).
public enum Role: String, DomainEnum {
    case admin
    case doctor
    case patient
    case secretary
    case superadmin
    case guest

    /// Admins and superadmins manage everything.
    public var isAdmin: Bool { self == .admin || self == .superadmin }

    /// Rank used to stop anyone granting more than they have.
    public var rank: Int {
        switch self {
        case .guest: 0
        case .patient: 1
        case .doctor: 2
        case .secretary: 2
        case .admin: 3
        case .superadmin: 4
        }
    }
}

/// Account state, the seed's `is_status`.
public enum UserStatus: String, DomainEnum {
    case active
    case pending
    case blocked
}
