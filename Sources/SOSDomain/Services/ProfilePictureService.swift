import Foundation

/// Profile picture uploads: PNG, JPEG or WebP by content, at most 5 MB; the user's `profile_picture` points at it.
public struct ProfilePictureService: Sendable {
    let users: any UserRepository
    let files: any FileStore
    let now: @Sendable () -> Date

    public static let maxBytes = 5 << 20
    /// Public URL prefix of stored pictures.
    public static let urlPrefix = "/uploads/profile-pictures/"

    public init(users: any UserRepository, files: any FileStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.users = users
        self.files = files
        self.now = now
    }

    /// Stores the picture and returns its URL path.
    public func upload(_ principal: Principal, bytes: [UInt8]) async throws -> String {
        guard !bytes.isEmpty else { throw DomainError.invalid("The uploaded file is empty; send an image in the multipart field 'file'.") }
        guard bytes.count <= Self.maxBytes else {
            throw DomainError(.tooLarge, message: "Payload too large", details: "Profile pictures may be at most \(Self.maxBytes >> 20) MB.")
        }
        guard let kind = FileKind.detect(bytes), FileKind.imageKinds.contains(kind) else {
            throw DomainError(.unsupportedMediaType, message: "Unsupported file type",
                              details: "Profile pictures must be PNG, JPEG or WebP images (checked from the file's content).")
        }
        let key = try await self.files.store(bytes, area: "profile-pictures", fileExtension: kind.fileExtension)
        guard var user = try await self.users.find(id: principal.id) else {
            throw DomainError.unauthorized("The account for this token no longer exists.")
        }
        let url = Self.urlPrefix + key
        user.profilePicture = url
        user.updatedAt = self.now()
        try await self.users.update(user)
        return url
    }

    /// The bytes and content type of a stored picture, or nil.
    public func picture(key: String) async throws -> ([UInt8], String)? {
        guard let ext = key.split(separator: ".").last, let kind = FileKind.forExtension(String(ext)),
              let bytes = try await self.files.load(area: "profile-pictures", key: key)
        else { return nil }
        return (bytes, kind.contentType)
    }
}
