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

    /// The provider collected money for a payment this server had already ended as failed (the booking's hold ran
    /// out while the card was being charged): it all goes back at once, and the payment shows that it was taken and
    /// returned. If the refund call fails, the payment says so for staff and the failure is logged.
    func refundAfterGivingUp(_ payment: Payment, received: ProviderOutcome.Received?) async throws {
        let amount = received?.amountMinor ?? payment.amountMinor
        guard amount > 0 else { return }
        var updated = payment
        updated.updatedAt = self.now()
        do {
            let refund = try await self.provider(of: payment).refund(
                payment, amountMinor: amount, reason: "booking_released", idempotencyKey: "payment-\(payment.id.uuidString.lowercased())-refund-late"
            )
            updated.status = .refunded
            updated.refundedMinor = min(amount, payment.amountMinor)
            updated.stripeRefundId = refund.id
            updated.refundReason = "booking_released"
            updated.paidAt = updated.updatedAt
            updated.refundedAt = updated.updatedAt
            updated.errorMessage = "Paid after the booking was released; refunded in full."
            self.logger.notice("Refunded a payment collected after its booking was released", metadata: ["payment_id": "\(payment.id.uuidString.lowercased())"])
        } catch {
            updated.errorMessage = "Paid after the booking was released; the automatic refund failed (\(Self.message(error))). Refund it at the provider."
            self.logger.error("Automatic refund of a late payment failed", metadata: ["payment_id": "\(payment.id.uuidString.lowercased())", "error": "\(Self.message(error))"])
        }
        guard try await self.payments.transition(updated, from: .failed) else { return }
        await self.announce(updated, previous: payment)
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
