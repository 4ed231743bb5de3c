import Foundation

/// Timings and sizes of SOS matching (configuration `SOS_DISPATCH_*`).
///
/// Wave `n` (from 1) offers the request to the `waveSize` nearest candidates not offered yet within
/// `initialRadiusKm × radiusGrowth^(n-1)` (at most `maxRadiusKm`, and always within each doctor's own coverage);
/// the next wave follows `waveDelay` later. `videoFallbackAfter` after the search began with no accept, it is offered
/// as video to up to `fallbackSize` on-call doctors speaking the language wherever they are; `noDoctorAfter` later
/// still, it ends as `no_doctor`.
public struct DispatchRules: Sendable, Equatable {
    public var waveSize = 3
    public var waveDelay: TimeInterval = 30
    public var initialRadiusKm = 5.0
    public var radiusGrowth = 2.0
    public var maxRadiusKm = 50.0
    public var videoFallbackAfter: TimeInterval = 120
    public var noDoctorAfter: TimeInterval = 120
    public var fallbackSize = 10
    /// How many rows the location query returns at most (the nearest are kept).
    public var candidateLimit = 500

    /// A doctor's coverage radius when he does not say.
    public static let defaultCoverageKm = 10.0
    public static let coverageRange: ClosedRange<Double> = 0.5...200

    public init() {}

    /// The search radius of wave `n` (1-based).
    public func radius(wave: Int) -> Double {
        min(self.maxRadiusKm, self.initialRadiusKm * pow(self.radiusGrowth, Double(max(0, wave - 1))))
    }
}
