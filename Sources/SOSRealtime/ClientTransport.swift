/// Sends frames to one WebSocket; adapts the server's outbound writer, fakeable in tests.
public protocol ClientTransport: Sendable {
    func send(_ text: String) async throws
    func close(code: UInt16, reason: String) async
}
