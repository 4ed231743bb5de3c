import Foundation

/// The development JWT secret: generated once, kept in the data directory with mode 0600.
enum SecretFile {
    /// Returns the secret stored at `path`, creating a random 48-byte one first if the file is missing.
    static func loadOrCreate(at path: String, secrets: SystemSecrets) throws -> String {
        let manager = FileManager.default
        if let data = manager.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError("The JWT secret file \(path) holds fewer than 32 bytes; delete it to have a new one generated.")
            }
            return secret
        }
        let directory = (path as NSString).deletingLastPathComponent
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let secret = secrets.randomToken(bytes: 48)
        // step: create with 0600 from the start so the secret is never readable by others, even briefly
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw ConfigurationError("Cannot create the JWT secret file \(path): \(String(cString: strerror(errno))).")
        }
        defer { close(fd) }
        let bytes = Array((secret + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw ConfigurationError("Cannot write the JWT secret file \(path): \(String(cString: strerror(errno))).")
        }
        return secret
    }
}
