import Foundation

/// A unified diff of two lists of lines (`---`/`+++` headers, `@@` hunks with three lines of
/// context), from their longest common subsequence.
enum UnifiedDiff {
    /// At most this many cells (4 bytes each) in the alignment table: 16 MB.
    static let maximumCells = 4_000_000

    static func lines(from old: [String], to new: [String], fromName: String, toName: String, context: Int = 3) -> [String] {
        guard old != new else { return [] }
        enum Edit { case same(String), removed(String), added(String) }
        // The common head and tail cost nothing; only what lies between is compared.
        var prefix = 0
        while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix, suffix < new.count - prefix, old[old.count - 1 - suffix] == new[new.count - 1 - suffix]
        {
            suffix += 1
        }
        let a = Array(old[prefix..<(old.count - suffix)])
        let b = Array(new[prefix..<(new.count - suffix)])
        var edits: [Edit] = old[..<prefix].map { .same($0) }
        if a.count * b.count > maximumCells {
            // Too large to align line by line within bounded memory: all of one, then all of the other.
            edits += a.map { .removed($0) } + b.map { .added($0) }
        } else {
            // The longest common subsequence of the middle, in one flat table filled from the end.
            let width = b.count + 1
            var table = [Int32](repeating: 0, count: (a.count + 1) * width)
            for i in stride(from: a.count - 1, through: 0, by: -1) {
                for j in stride(from: b.count - 1, through: 0, by: -1) {
                    table[i * width + j] =
                        a[i] == b[j]
                        ? table[(i + 1) * width + j + 1] + 1 : max(table[(i + 1) * width + j], table[i * width + j + 1])
                }
            }
            var (i, j) = (0, 0)
            while i < a.count || j < b.count {
                if i < a.count, j < b.count, a[i] == b[j] {
                    edits.append(.same(a[i]))
                    (i, j) = (i + 1, j + 1)
                } else if i < a.count, j == b.count || table[(i + 1) * width + j] >= table[i * width + j + 1] {
                    edits.append(.removed(a[i]))
                    i += 1
                } else {
                    edits.append(.added(b[j]))
                    j += 1
                }
            }
        }
        edits += old[(old.count - suffix)...].map { .same($0) }
        let changed = edits.indices.filter { if case .same = edits[$0] { false } else { true } }
        var output = ["--- \(fromName)", "+++ \(toName)"]
        var index = 0
        while index < changed.count {
            let start = max(0, changed[index] - context)
            var end = min(edits.count, changed[index] + context + 1)
            while index + 1 < changed.count, changed[index + 1] - context <= end {
                index += 1
                end = min(edits.count, changed[index] + context + 1)
            }
            // Line numbers of the hunk in the old and the new list.
            var oldLine = 1
            var newLine = 1
            for edit in edits[..<start] {
                switch edit {
                case .same: (oldLine, newLine) = (oldLine + 1, newLine + 1)
                case .removed: oldLine += 1
                case .added: newLine += 1
                }
            }
            var body: [String] = []
            var (oldCount, newCount) = (0, 0)
            for edit in edits[start..<end] {
                switch edit {
                case .same(let line): body.append(" " + line); (oldCount, newCount) = (oldCount + 1, newCount + 1)
                case .removed(let line): body.append("-" + line); oldCount += 1
                case .added(let line): body.append("+" + line); newCount += 1
                }
            }
            // An empty side names the line before it, as diff(1) does.
            output.append(
                "@@ -\(oldCount == 0 ? oldLine - 1 : oldLine),\(oldCount) +\(newCount == 0 ? newLine - 1 : newLine),\(newCount) @@"
            )
            output += body
            index += 1
        }
        return output
    }
}
