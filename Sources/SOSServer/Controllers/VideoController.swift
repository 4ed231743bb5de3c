import Crypto
import Foundation
import Hummingbird
import SOSDomain

/// `/api/v1/video-consultations`: start, end, status, and ICE servers for WebRTC.
struct VideoController {
    let video: VideoService
    let stun: [String]
    let turn: [String]
    let turnSecret: String?
    let turnTTL: TimeInterval

    func addRoutes(to group: RouterGroup<AuthenticatedContext>) {
        group.get("ice-servers", use: self.iceServers)
        group.get("status/:appointmentId", use: self.status)
        group.post(":appointmentId/start", use: self.start)
        group.post(":appointmentId/end", use: self.end)
    }

    @Sendable func status(_ request: Request, context: AuthenticatedContext) async throws -> ConsultationEnvelope {
        ConsultationEnvelope(consultation: ConsultationPayload(try await self.video.status(context.principal, appointmentId: try context.uuid("appointmentId"))))
    }

    @Sendable func start(_ request: Request, context: AuthenticatedContext) async throws -> ConsultationMessageEnvelope {
        let consultation = try await self.video.start(context.principal, appointmentId: try context.uuid("appointmentId"))
        return ConsultationMessageEnvelope(message: "Consultation started", consultation: ConsultationPayload(consultation))
    }

    @Sendable func end(_ request: Request, context: AuthenticatedContext) async throws -> ConsultationMessageEnvelope {
        let consultation = try await self.video.end(context.principal, appointmentId: try context.uuid("appointmentId"))
        return ConsultationMessageEnvelope(message: "Consultation ended", consultation: ConsultationPayload(consultation))
    }

    @Sendable func iceServers(_ request: Request, context: AuthenticatedContext) async throws -> IceServersPayload {
        let secret = self.turnSecret
        let servers = VideoService.iceServers(
            stun: self.stun, turn: self.turn,
            turnCredential: { username in
                secret.map { Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data($0.utf8)))).base64EncodedString() }
            },
            userId: context.principal.id, ttl: self.turnTTL, now: Date()
        )
        return IceServersPayload(
            iceServers: servers.map { IceServersPayload.Server(urls: $0.urls, username: $0.username, credential: $0.credential) }, ttl: Int(self.turnTTL)
        )
    }
}
