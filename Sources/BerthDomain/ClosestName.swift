/// The known name a mistyped one was most likely meant to be ("desiredCont" → "desiredCount"), for
/// errors that say "did you mean …?", as the AWS CLI does for an unknown member.
public enum ClosestName {
    /// The name in `known` nearest to `name` by edit distance (case aside), when it is near enough
    /// to be a typo: at most a third of the name's length apart, and at least 2.
    public static func to(_ name: String, among known: some Sequence<String>) -> String? {
        let wanted = Array(name.lowercased())
        var best: (name: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(wanted, Array(candidate.lowercased()))
            if distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        guard let best, best.distance <= max(2, wanted.count / 3) else { return nil }
        return best.name
    }

    /// " (did you mean desiredCount?)", or nothing when no known name is close.
    public static func hint(_ name: String, among known: some Sequence<String>) -> String {
        to(name, among: known).map { " (did you mean \($0)?)" } ?? ""
    }

    /// Levenshtein distance: insertions, deletions and substitutions.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
