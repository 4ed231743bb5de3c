import Foundation

extension PaymentService {
    /// Gives back the slots of unpaid bookings whose hold ended (`BookingRules`): each becomes `cancelled` with the
    /// reason, both sides are told live, and its open payment (a card payment not finished, a pay-at-clinic payment
    /// never confirmed) ends as failed, with the provider asked to cancel it. A payment that still succeeds later is
    /// refunded (`followAppointment`). Returns how many bookings were released.
    @discardableResult
    public func releaseEndedHolds(limit: Int = 200) async throws -> Int {
        var released = 0
        for appointment in try await self.appointmentStore.holdsEnded(at: self.now(), limit: limit) {
            let open = try await self.payments.open(appointmentId: appointment.id)
            let atClinic = open?.provider == .manual || !self.appointments.rules.onlinePayments
            guard try await self.appointments.release(appointment, route: atClinic ? .clinic : .online) else { continue }
            released += 1
            guard let open else { continue }
            _ = try? await self.provider(of: open).cancel(open, idempotencyKey: "payment-\(open.id.uuidString.lowercased())-cancel")
            _ = try? await self.endForRelease(open)
        }
        return released
    }

    private func endForRelease(_ payment: Payment) async throws {
        var updated = payment
        updated.status = .failed
        updated.errorMessage = "The booking's hold ended before the payment was completed; the slot was released."
        updated.updatedAt = self.now()
        guard try await self.payments.transition(updated, from: payment.status) else { return }
        await self.announce(updated, previous: payment)
    }
}
