import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request does not arrive in full — head and body — within `timeout`
/// of its first byte (`--request-timeout`).
///
/// The idle timeout starts again with every byte, so a client that sends a byte every few seconds
/// would hold its connection (and a slot of the server) for as long as it likes: a "slow loris".
/// This handler sits after the HTTP codec, where requests have a beginning and an end, and puts a
/// ``FirstByteObserver`` at the front of the pipeline, where the first byte of a request is seen
/// before there is any request to decode. Time between requests on a kept-alive connection is the
/// idle timeout's business, not this one's: the clock starts at a request's first byte and stops
/// at its end.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let clock: RequestClock

    init(timeout: TimeAmount) {
        clock = RequestClock(timeout: timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        do {
            try context.pipeline.syncOperations.addHandler(FirstByteObserver(clock: clock), position: .first)
        } catch {
            // A pipeline that takes no more handlers is closing already.
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { clock.requestReceived() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { clock.responseSent() }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.stop()
    }
}

/// The first handler of the pipeline: tells the clock when bytes arrive. It passes everything on
/// untouched (raw bytes on HTTP/1.1, TLS records under HTTPS, frames in an HTTP/2 stream).
final class FirstByteObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let clock: RequestClock

    init(clock: RequestClock) { self.clock = clock }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesArrived(context: context)
        context.fireChannelRead(data)
    }
}

/// One connection's request clock, shared by its two handlers (on the connection's event loop).
final class RequestClock {
    private enum Phase {
        /// Between requests: the next byte starts the clock.
        case waiting
        /// A request has begun and not ended.
        case receiving
        /// The request has arrived; the server is answering it.
        case answering
    }

    let timeout: TimeAmount
    private var phase = Phase.waiting
    /// The answer to the request being received went out before its end (a 401 or 413 sent
    /// before the body was read): the rest of the body still has to arrive in time.
    private var answeredEarly = false
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func bytesArrived(context: ChannelHandlerContext) {
        guard phase == .waiting else { return }
        phase = .receiving
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }

    func requestReceived() {
        stop()
        phase = answeredEarly ? .waiting : .answering
        answeredEarly = false
    }

    /// The answer is sent. After a whole request the next byte starts a new one; an answer sent
    /// before the request ended leaves the clock running until it has.
    func responseSent() {
        switch phase {
        case .answering: phase = .waiting
        case .receiving: answeredEarly = true
        case .waiting: break
        }
    }

    func stop() {
        deadline?.cancel()
        deadline = nil
    }
}
