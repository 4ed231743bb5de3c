import Foundation
import Hummingbird
import SOSDomain

/// `POST /api/v1/upload/profile-picture` and the public `GET /uploads/profile-pictures/:key`.
struct UploadController {
    let pictures: ProfilePictureService

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.post("profile-picture", use: self.upload)
    }

    func addPublicRoutes(to router: Router<AppRequestContext>) {
        router.get("uploads/profile-pictures/:key", use: self.serve)
    }

    @Sendable func upload(_ request: Request, context: AuthenticatedContext) async throws -> UploadPayload {
        // step: the quota is checked on the declared size before the body is read
        if let size = request.headers[.contentLength].flatMap({ Int($0) }) {
            guard size <= ProfilePictureService.maxBytes + (64 << 10) else {
                throw DomainError(.tooLarge, message: "Payload too large", details: "Profile pictures may be at most \(ProfilePictureService.maxBytes >> 20) MB.")
            }
            try await self.pictures.quota.check(owner: context.principal.id, adding: size)
        }
        let file = try await MultipartForm.file(named: "file", from: request, maxBytes: ProfilePictureService.maxBytes)
        let url = try await self.pictures.upload(context.principal, bytes: file.bytes)
        return UploadPayload(message: "Profile picture uploaded", url: url)
    }

    @Sendable func serve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = context.parameters.get("key") ?? ""
        guard let (bytes, contentType) = try await self.pictures.picture(key: key) else {
            throw APIError(.notFound, "Not found", "No profile picture '\(key.prefix(80))'.")
        }
        return Response(
            status: .ok,
            headers: [.contentType: contentType, .cacheControl: "public, max-age=31536000, immutable"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
