import Crypto
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import SOSDomain

/// bcrypt on a dedicated thread pool, so a burst of sign-ins never stalls the event loops.
///
/// The pool has one thread fewer than the machine has cores (at least one), and its threads run at a low priority
/// (`niceness`): hashing can saturate those while a core stays free for serving other requests, and mostly yields
/// even those when requests need them.
final class BcryptPasswordHasher: PasswordHasher {
    let cost: UInt8
    let pool: NIOThreadPool
    /// A hash of a random password at `cost`, verified against when the account does not exist.
    let decoy: String

    init(cost: Int) {
        self.cost = UInt8(cost)
        self.pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount - 1))
        self.pool.start()
        self.decoy = Bcrypt.hash(SystemSecrets().randomToken(), cost: UInt8(cost))
    }

    deinit {
        self.pool.shutdownGracefully { _ in }
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await self.pool.runIfActive { Self.yielding { Bcrypt.hash(Self.bcryptInput(password), cost: cost) } }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await self.pool.runIfActive { Self.yielding { Bcrypt.verify(Self.bcryptInput(password), hash: hash) } }
    }

    func burnVerification(_ password: String) async {
        let decoy = self.decoy
        _ = try? await self.pool.runIfActive { Self.yielding { Bcrypt.verify(Self.bcryptInput(password), hash: decoy) } }
    }

    /// The hashing threads' nice value. Beside one busy thread at nice 0 the scheduler gives nice 19 about 1.5 % of a
    /// core: on a saturated machine (CI) eight queued sign-ins at cost 11 outlived a client's 15 s. Nice 15 gives
    /// about 3.5 % (twice as fast), nice 10 about 10 %; measured with `scripts/bench-rest.sh storm` (Benchmarks/README.md),
    /// the lists' p99 during a sign-in storm rose × 1.15 at nice 19, × 1.6 at nice 15 and × 2.1 at nice 10 (goal: × 2).
    static let niceness: Int32 = 15

    /// Runs `body` on this pool thread at `niceness` (Linux nices threads one by one), so that a storm of sign-ins
    /// takes the cores mostly when request handling leaves them idle.
    static func yielding<T>(_ body: () -> T) -> T {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)  // 0: the calling thread, on Linux
        #endif
        return body()
    }

    /// bcrypt reads at most 72 bytes and stops at a NUL byte; such passwords go through SHA-256 first so
    /// every character counts.
    static func bcryptInput(_ password: String) -> String {
        guard password.utf8.count > 72 || password.utf8.contains(0) else { return password }
        return "sha256:" + Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
