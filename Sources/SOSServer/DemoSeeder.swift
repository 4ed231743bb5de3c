import Foundation
import SOSDomain

/// Demo data for `seed-demo`: doctors, a secretary for them, and patients. Idempotent per email.
struct DemoSeeder {
    let services: AppServices

    /// Creates `5 × scale` doctors and `20 × scale` patients (password `Demo1234!`); returns a summary line.
    func seed(scale: Int) async throws -> String {
        let now = Date()
        let hash = try await BcryptPasswordHasher(cost: 4).hash("Demo1234!")
        var doctors: [UUID] = []
        var created = 0
        for index in 0..<(5 * scale) {
            let (id, isNew) = try await self.account(email: "doctor\(index + 1)@demo.sos", name: "Dr. Demo \(index + 1)", role: .doctor, hash: hash, now: now)
            doctors.append(id)
            created += isNew ? 1 : 0
        }
        for index in 0..<(20 * scale) {
            created += try await self.account(email: "patient\(index + 1)@demo.sos", name: "Patient Demo \(index + 1)", role: .patient, hash: hash, now: now).1 ? 1 : 0
        }
        let (secretaryId, isNew) = try await self.account(email: "secretary@demo.sos", name: "Secretary Demo", role: .secretary, hash: hash, now: now)
        created += isNew ? 1 : 0
        if var secretary = try await self.services.users.find(id: secretaryId) {
            secretary.associatedDoctors = Array(doctors.prefix(3))
            try await self.services.users.update(secretary)
        }
        return "Demo data ready: \(created) new account(s); \(doctors.count) doctors, \(20 * scale) patients, 1 secretary (password Demo1234!)."
    }

    private func account(email: String, name: String, role: Role, hash: String, now: Date) async throws -> (UUID, Bool) {
        if let existing = try await self.services.users.find(email: email) { return (existing.id, false) }
        let user = User(email: email, name: name, role: role, status: .active, isEmailVerified: true, createdAt: now, updatedAt: now)
        try await self.services.users.create(user, passwordHash: hash)
        return (user.id, true)
    }
}
