import Foundation

/// How much every user may upload in all (`SOS_UPLOAD_QUOTA_MB`), counted from the upload registry; checked
/// before a file's body is read or stored.
public struct UploadQuota: Sendable {
    let uploads: any UploadRegistry
    public let bytes: Int

    public init(uploads: any UploadRegistry, bytes: Int = 100 << 20) {
        self.uploads = uploads
        self.bytes = bytes
    }

    /// Refuses an upload of `size` bytes that would take `owner` past the quota.
    public func check(owner: UUID, adding size: Int) async throws {
        let used = try await self.uploads.usage(owner: owner)
        guard used + size <= self.bytes else {
            throw DomainError(.tooLarge, message: "Storage quota reached",
                              details: "This upload would pass your storage quota: your files use \(used >> 20) of \(self.bytes >> 20) MB and this one needs \(max(1, size >> 20)) MB. Remove old files or ask the clinic.")
        }
    }
}

/// Profile pictures.
///
/// Rules: PNG, JPEG or WebP by content, at most 5 MB, within the uploader's `UploadQuota`; a `profile_picture` is
/// only ever a picture that user uploaded here (no outside URLs: they would tell a third party who looks, and the
/// client's CSP would not show them anyway); a replaced picture's file is deleted.
public struct ProfilePictureService: Sendable {
    let users: any UserRepository
    let files: any FileStore
    let uploads: any UploadRegistry
    public let quota: UploadQuota
    let now: @Sendable () -> Date

    public static let maxBytes = 5 << 20
    /// Public URL prefix of stored pictures.
    public static let urlPrefix = "/uploads/profile-pictures/"
    static let area = "profile-pictures"

    public init(users: any UserRepository, files: any FileStore, quota: UploadQuota, now: @escaping @Sendable () -> Date = { Date() }) {
        self.users = users
        self.files = files
        self.uploads = quota.uploads
        self.quota = quota
        self.now = now
    }

    /// Stores the picture, makes it the user's `profile_picture`, deletes the one it replaces; returns its URL path.
    public func upload(_ principal: Principal, bytes: [UInt8]) async throws -> String {
        guard !bytes.isEmpty else { throw DomainError.invalid("The uploaded file is empty; send an image in the multipart field 'file'.") }
        guard bytes.count <= Self.maxBytes else {
            throw DomainError(.tooLarge, message: "Payload too large", details: "Profile pictures may be at most \(Self.maxBytes >> 20) MB.")
        }
        guard let kind = FileKind.detect(bytes), FileKind.imageKinds.contains(kind) else {
            throw DomainError(.unsupportedMediaType, message: "Unsupported file type",
                              details: "Profile pictures must be PNG, JPEG or WebP images (checked from the file's content).")
        }
        try await self.quota.check(owner: principal.id, adding: bytes.count)
        let key = try await self.files.store(bytes, area: Self.area, fileExtension: kind.fileExtension)
        try await self.uploads.record(area: Self.area, key: key, owner: principal.id, size: bytes.count, at: self.now())
        let url = Self.urlPrefix + key
        do {
            guard var user = try await self.users.find(id: principal.id) else {
                throw DomainError.unauthorized("The account for this token no longer exists.")
            }
            let previous = user.profilePicture
            user.profilePicture = url
            user.updatedAt = self.now()
            try await self.users.update(user)
            await self.discard(replaced: previous, by: url)
        } catch {
            await self.discard(replaced: url, by: nil)
            throw error
        }
        return url
    }

    /// The value to store for a `profile_picture` a client sent for `owner`: nil for "" (none); the URL of one of
    /// `owner`'s own uploaded pictures; anything else is a 400.
    public func validated(_ raw: String, owner: UUID) async throws -> String? {
        if raw.isEmpty { return nil }
        guard raw.hasPrefix(Self.urlPrefix), try await self.uploads.owner(area: Self.area, key: String(raw.dropFirst(Self.urlPrefix.count))) == owner else {
            throw DomainError.invalid("'profile_picture' must be the url of a picture this account uploaded (POST /api/v1/upload/profile-picture), or \"\" for none (got '\(raw.prefix(80))').")
        }
        return raw
    }

    /// After a change of picture: deletes the old file when it was one of ours and is no longer used.
    public func discard(replaced old: String?, by new: String?) async {
        guard let old, old != new, old.hasPrefix(Self.urlPrefix) else { return }
        let key = String(old.dropFirst(Self.urlPrefix.count))
        try? await self.files.delete(area: Self.area, key: key)
        try? await self.uploads.remove(area: Self.area, key: key)
    }

    /// The bytes and content type of a stored picture, or nil.
    public func picture(key: String) async throws -> ([UInt8], String)? {
        guard let ext = key.split(separator: ".").last, let kind = FileKind.forExtension(String(ext)),
              let bytes = try await self.files.load(area: Self.area, key: key)
        else { return nil }
        return (bytes, kind.contentType)
    }
}
