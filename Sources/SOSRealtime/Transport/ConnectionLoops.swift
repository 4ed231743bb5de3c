import NIOCore

/// This node's open WebSocket connections, per event loop, each loop's set touched only on that loop. One timer per
/// loop pings every socket on it (instead of a timer per socket), and shutdown reaches every connection, whether it
/// has authenticated or not.
public final class ConnectionLoops: Sendable {
    /// One loop's connections and its heartbeat timer.
    final class Members {
        var handlers: [ObjectIdentifier: WebSocketConnectionHandler] = [:]
        var timer: RepeatedTask?
    }

    private let members: [ObjectIdentifier: NIOLoopBoundBox<Members?>]
    let pingInterval: TimeAmount

    /// `group` holds every event loop connections will be served on (the server's).
    public init(group: any EventLoopGroup, pingInterval: TimeAmount) {
        var members: [ObjectIdentifier: NIOLoopBoundBox<Members?>] = [:]
        for loop in group.makeIterator() {
            members[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeEmptyBox(valueType: Members.self, eventLoop: loop)
        }
        self.members = members
        self.pingInterval = pingInterval
    }

    func add(_ handler: WebSocketConnectionHandler, on loop: any EventLoop) {
        guard let box = self.members[ObjectIdentifier(loop)] else { return }  // step: a loop of another group: no heartbeats
        let members = box.value ?? Members()
        box.value = members
        members.handlers[ObjectIdentifier(handler)] = handler
        if members.timer == nil {
            let interval = self.pingInterval
            let bound = NIOLoopBound(members, eventLoop: loop)
            members.timer = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                for handler in bound.value.handlers.values { handler.heartbeat() }
            }
        }
    }

    func remove(_ handler: WebSocketConnectionHandler, on loop: any EventLoop) {
        self.members[ObjectIdentifier(loop)]?.value?.handlers[ObjectIdentifier(handler)] = nil
    }

    /// Open connections on all loops (for tests and metrics; asks every loop).
    public func count() async -> Int {
        var total = 0
        for box in self.members.values {
            total += (try? await box.eventLoop.submit { box.value?.handlers.count ?? 0 }.get()) ?? 0
        }
        return total
    }

    /// Tells every open connection that the server is shutting down (each closes with 1001).
    public func shutDownAll() {
        for box in self.members.values {
            box.eventLoop.execute {
                guard let members = box.value else { return }
                for handler in Array(members.handlers.values) { handler.endpoint.shutdownRequested() }
            }
        }
    }
}
