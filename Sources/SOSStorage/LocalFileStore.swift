import Foundation
import NIOPosix
import SOSDomain

/// `FileStore` on the local disk: `<root>/<area>/<32 hex>.<ext>`, written atomically and fsynced.
///
/// Keys are generated here and checked against that exact shape on read, so no client-supplied path can ever
/// reach outside the store.
public struct LocalFileStore: FileStore {
    let root: String

    public init(root: String) {
        self.root = root
    }

    static let areas: Set<String> = ["profile-pictures", "attachments"]
    static let extensions: Set<String> = ["png", "jpg", "webp", "pdf"]

    public func store(_ bytes: [UInt8], area: String, fileExtension: String) async throws -> String {
        precondition(Self.areas.contains(area) && Self.extensions.contains(fileExtension), "unknown file area or extension")
        var generator = SystemRandomNumberGenerator()
        let key = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined() + "." + fileExtension
        let directory = (self.root as NSString).appendingPathComponent(area)
        let path = (directory as NSString).appendingPathComponent(key)
        try await NIOThreadPool.singleton.runIfActive {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temporary = path + ".tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw FileStoreError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
            var written = 0
            while written < bytes.count {
                let result = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard result > 0 else {
                    close(fd)
                    throw FileStoreError("cannot write \(temporary): \(String(cString: strerror(errno)))")
                }
                written += result
            }
            guard fsync(fd) == 0, close(fd) == 0, rename(temporary, path) == 0 else {
                throw FileStoreError("cannot store \(path): \(String(cString: strerror(errno)))")
            }
        }
        return key
    }

    public func load(area: String, key: String) async throws -> [UInt8]? {
        guard Self.areas.contains(area), Self.isKey(key) else { return nil }
        let path = ((self.root as NSString).appendingPathComponent(area) as NSString).appendingPathComponent(key)
        return try await NIOThreadPool.singleton.runIfActive {
            FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        }
    }

    public func delete(area: String, key: String) async throws {
        guard Self.areas.contains(area), Self.isKey(key) else { return }
        let path = ((self.root as NSString).appendingPathComponent(area) as NSString).appendingPathComponent(key)
        try await NIOThreadPool.singleton.runIfActive {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        }
    }

    /// 32 lower-case hex digits, a dot, and a known extension: nothing else is ever a key.
    static func isKey(_ key: String) -> Bool {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 32, Self.extensions.contains(String(parts[1])) else { return false }
        return parts[0].allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
}

/// A file could not be written.
struct FileStoreError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
