/// What asking to cancel a task did.
public enum CancelResult: Sendable, Hashable {
    /// It was queued: it is cancelled now.
    case cancelled
    /// It is executing on `node`, which stops it when it next looks (within a second).
    case requested(node: String)
    /// It had already ended in `state`.
    case alreadyFinished(ServerTask.State)
}
