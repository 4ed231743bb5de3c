import Foundation

/// A wall clock the tests move forward instead of sleeping, so expiry and backoff do not depend on machine load.
final class TestClock: @unchecked Sendable {
    // @unchecked: `offset` is only touched under `lock`.
    private let lock = NSLock()
    private var offset: TimeInterval = 0

    var now: @Sendable () -> Date { { [self] in self.lock.withLock { Date().addingTimeInterval(self.offset) } } }

    func advance(_ seconds: TimeInterval) { self.lock.withLock { self.offset += seconds } }
}
