import Foundation

extension SOSService {
    /// Runs the waves and timeouts that are due (the dispatch job calls it every few seconds; tests after moving
    /// their clock). Each step is compare-and-set on the request's version, so several nodes never repeat one.
    @discardableResult
    public func advanceDue(limit: Int = 100) async throws -> Int {
        let now = self.now()
        var advanced = 0
        for request in try await self.dispatch.due(at: now, limit: limit) where try await self.advance(request, now: now) {
            advanced += 1
        }
        return advanced
    }

    /// The next step of an open request: another wave, the video fallback, or `no_doctor`.
    func advance(_ request: SOSRequest, now: Date) async throws -> Bool {
        let step: SOSRequest?
        switch request.state {
        case .searching where now >= request.searchStartedAt.addingTimeInterval(self.rules.videoFallbackAfter):
            step = try await self.fallBackToVideo(request, now: now)
        case .searching:
            step = try await self.offerWave(request, now: now)
        case .videoFallback:
            step = try await self.giveUp(request, now: now)
        default:
            step = nil
        }
        guard let step else { return false }
        try await self.announce(step)
        return true
    }

    /// Offers the next wave: the nearest candidates not offered yet within the widened radius. nil when another
    /// writer changed the request first (nothing was offered).
    func offerWave(_ request: SOSRequest, now: Date) async throws -> SOSRequest? {
        let wave = request.wave + 1
        let radius = self.rules.radius(wave: wave)
        let ranked = try await self.rank(request, radius: radius, kinds: request.kinds, limit: self.rules.waveSize)
        var next = request
        next.wave = wave
        next.searchRadiusKm = radius
        next.nextStepAt = min(now.addingTimeInterval(self.rules.waveDelay), request.searchStartedAt.addingTimeInterval(self.rules.videoFallbackAfter))
        next.updatedAt = now
        guard let stored = try await self.store(next, over: request) else { return nil }
        try await self.sendOffers(ranked, for: stored, wave: wave, now: now)
        return stored
    }

    /// No one nearby accepted in time: offers a video consultation to on-call doctors speaking the language anywhere.
    func fallBackToVideo(_ request: SOSRequest, now: Date) async throws -> SOSRequest? {
        try SOSStateMachine.check(from: request.state, to: .videoFallback, by: .dispatch)
        let ranked = try await self.rank(request, radius: nil, kinds: [.video], limit: self.rules.fallbackSize)
        var next = request
        next.state = .videoFallback
        next.wave = request.wave + 1
        next.searchRadiusKm = nil
        next.nextStepAt = now.addingTimeInterval(self.rules.noDoctorAfter)
        next.updatedAt = now
        guard let stored = try await self.store(next, over: request) else { return nil }
        try await self.sendOffers(ranked, for: stored, wave: stored.wave, now: now)
        return stored
    }

    /// Nobody accepted, not even for video: `no_doctor`, the emergency number, offers withdrawn.
    func giveUp(_ request: SOSRequest, now: Date) async throws -> SOSRequest? {
        try SOSStateMachine.check(from: request.state, to: .noDoctor, by: .dispatch)
        var next = request
        next.state = .noDoctor
        next.nextStepAt = nil
        next.reason = "No doctor accepted within \(Int((self.rules.videoFallbackAfter + self.rules.noDoctorAfter) / 60)) minutes."
        next.updatedAt = now
        guard let stored = try await self.store(next, over: request) else { return nil }
        try await self.withdraw(stored)
        return stored
    }

    /// Writes `next` compare-and-set over `request`: the stored request (its version one up), or nil when another
    /// writer (a node's dispatch run, an accept) changed it first.
    func store(_ next: SOSRequest, over request: SOSRequest) async throws -> SOSRequest? {
        guard try await self.dispatch.update(next, expectedVersion: request.version) else { return nil }
        var stored = next
        stored.version = request.version + 1
        return stored
    }

    /// Tells the doctors still holding an offer that the request ended without them.
    func withdraw(_ request: SOSRequest) async throws {
        let holders = try await self.dispatch.offers(requestId: request.id).filter { $0.declinedAt == nil }.map(\.doctorId)
        await self.publish("sos.withdrawn", .withdrawn(requestId: request.id, state: request.state), to: Set(holders))
    }

    /// Candidates for a wave, best first: SQL narrows to the box around the location (or, for video anywhere, to
    /// on-call video doctors), then great-circle distance within the wave's radius and the doctor's coverage, then
    /// presence and, for doctors on call by schedule, their availability now; ranked by distance, then rating.
    func rank(_ request: SOSRequest, radius: Double?, kinds: [SOSKind], limit: Int) async throws -> [(SOSCandidate, Double, SOSKind)] {
        let location = request.location
        let box = radius.map { Geo.box(latitude: location.latitude, longitude: location.longitude, radiusKm: $0) }
        let rows = try await self.dispatch.candidates(CandidateQuery(
            requestId: request.id, latitude: location.latitude, longitude: location.longitude, box: box, language: request.language, kinds: kinds, limit: self.rules.candidateLimit
        ))
        let near = rows.compactMap { candidate -> (SOSCandidate, Double, SOSKind)? in
            let distance = Geo.distanceKm(candidate.latitude, candidate.longitude, location.latitude, location.longitude)
            if let radius, distance > min(radius, candidate.radiusKm) { return nil }
            guard let kind = kinds.first(where: candidate.kinds.contains) else { return nil }
            return (candidate, distance, kind)
        }
        let online = await self.presence.connected(among: near.map(\.0.doctorId))
        var eligible: [(SOSCandidate, Double, SOSKind)] = []
        for entry in near where online.contains(entry.0.doctorId) {
            // step: a doctor on call only by schedule is a candidate while his availability covers the moment
            if entry.0.onlyBySchedule {
                guard let doctor = try await self.doctors.find(id: entry.0.doctorId), try await self.scheduledNow(doctor) else { continue }
            }
            eligible.append(entry)
        }
        return Array(eligible.sorted {
            $0.1 != $1.1 ? $0.1 < $1.1 : $0.0.rating > $1.0.rating
        }.prefix(limit))
    }

    /// Stores the offers, then sends each doctor his `sos.offer`.
    func sendOffers(_ ranked: [(SOSCandidate, Double, SOSKind)], for request: SOSRequest, wave: Int, now: Date) async throws {
        guard !ranked.isEmpty else { return }
        let offers = ranked.map { SOSOffer(requestId: request.id, doctorId: $0.0.doctorId, wave: wave, kind: $0.2, distanceKm: $0.1, offeredAt: now) }
        try await self.dispatch.addOffers(offers)
        for (offer, (candidate, _, _)) in zip(offers, ranked) {
            let base = OnCallStatus(
                doctorId: candidate.doctorId, onCall: true, latitude: candidate.latitude, longitude: candidate.longitude, radiusKm: candidate.radiusKm,
                kinds: candidate.kinds, updatedAt: nil
            )
            await self.publish("sos.offer", .offer(Self.view(request, offer, base: base)), to: [offer.doctorId])
        }
    }
}
