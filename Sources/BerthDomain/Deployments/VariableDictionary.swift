import Foundation

/// One candidate value of a variable, opened (sensitive values in clear, in memory only).
public struct ScopedValue: Sendable, Hashable {
    public var name: String
    public var value: String
    public var isSensitive: Bool
    public var scope: VariableScope

    public init(name: String, value: String, isSensitive: Bool, scope: VariableScope = VariableScope()) {
        self.name = name
        self.value = value
        self.isSensitive = isSensitive
        self.scope = scope
    }
}

/// The variables of one step on one target: one value per name (case-insensitive, as in Octopus),
/// and `#{Name}` substitution.
///
/// A reference to an unknown name is left as written (`#{Missing}`), as Octopus does, and
/// `unresolvedReferences(in:)` names it so the log can warn. References nest
/// (`#{Url}` → `https://#{Host}`); a cycle stops expanding where it closes. One expansion produces
/// at most ``maximumExpandedBytes`` and nests at most ``maximumNestingDepth`` references deep, so
/// values that double at each level (`A = #{B}#{B}`, `B = #{C}#{C}`…) cannot grow exponentially:
/// ``evaluating(_:)``, ``substituting(_:)`` and ``checkLimits()`` throw an error naming the
/// variable; the non-throwing forms leave such a value as written.
///
/// ```swift
/// var variables = VariableDictionary.resolving(candidates, in: context)
/// variables.set("Berth.Environment.Name", "Production")
/// variables.evaluate("web-#{Berth.Environment.Name}")  // "web-Production"
/// ```
public struct VariableDictionary: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var value: String
        public var isSensitive: Bool
    }

    private var entries: [String: Entry] = [:]
    private var order: [String] = []

    public init() {}

    /// The most specific value of every name that applies in `context`; of equally specific values
    /// the first wins.
    public static func resolving(_ candidates: [ScopedValue], in context: VariableContext) -> VariableDictionary {
        var best: [String: ScopedValue] = [:]
        var order: [String] = []
        for candidate in candidates where candidate.scope.matches(context) {
            let key = candidate.name.lowercased()
            if let current = best[key] {
                if candidate.scope.specificity > current.scope.specificity { best[key] = candidate }
            } else {
                best[key] = candidate
                order.append(key)
            }
        }
        var dictionary = VariableDictionary()
        for key in order {
            if let value = best[key] { dictionary.set(value.name, value.value, sensitive: value.isSensitive) }
        }
        return dictionary
    }

    public mutating func set(_ name: String, _ value: String, sensitive: Bool = false) {
        let key = name.lowercased()
        if entries[key] == nil { order.append(key) }
        entries[key] = Entry(name: name, value: value, isSensitive: sensitive)
    }

    /// Adds every entry of `other`, replacing same-named ones.
    public mutating func merge(_ other: VariableDictionary) {
        for entry in other.all { set(entry.name, entry.value, sensitive: entry.isSensitive) }
    }

    public subscript(name: String) -> Entry? { entries[name.lowercased()] }

    /// Every entry in the order first set.
    public var all: [Entry] { order.compactMap { entries[$0] } }

    /// `true`/`True`/`1`/`yes` after evaluation.
    public func isTrue(_ name: String) -> Bool {
        guard let value = evaluated(name) else { return false }
        return ["true", "1", "yes"].contains(value.lowercased())
    }

    /// The longest text one expansion may produce: 1 MiB of UTF-8.
    public static let maximumExpandedBytes = 1 << 20
    /// How deeply references may nest (`#{A}` → `#{B}` → `#{C}` is three deep).
    public static let maximumNestingDepth = 32

    /// The value of `name` with its references expanded; the value as written when its expansion
    /// breaks a limit.
    public func evaluated(_ name: String) -> String? {
        guard let entry = self[name] else { return nil }
        return (try? expanding(entry.value, from: entry.name)) ?? entry.value
    }

    /// `text` with every `#{Name}` of a known name replaced by its evaluated value; `text` as written
    /// when its expansion breaks a limit.
    public func evaluate(_ text: String) -> String {
        (try? evaluating(text)) ?? text
    }

    /// `text` with every `#{Name}` of a known name replaced by its evaluated value.
    /// - Throws: `BerthError` naming the variable whose expansion grows past
    ///   ``maximumExpandedBytes`` or nests deeper than ``maximumNestingDepth``.
    public func evaluating(_ text: String) throws(BerthError) -> String {
        try expanding(text, from: nil)
    }

    /// Every string in `json` evaluated (object keys are left alone); strings whose expansion
    /// breaks a limit are left as written.
    public func substitute(_ json: JSONValue) -> JSONValue {
        switch json {
        case .string(let text): .string(evaluate(text))
        case .array(let items): .array(items.map(substitute))
        case .object(let members): .object(members.map { ($0.0, substitute($0.1)) })
        case .number, .bool, .null: json
        }
    }

    /// Every string in `json` evaluated (object keys are left alone).
    /// - Throws: `BerthError` naming the variable whose expansion breaks a limit.
    public func substituting(_ json: JSONValue) throws(BerthError) -> JSONValue {
        switch json {
        case .string(let text): return .string(try evaluating(text))
        case .array(let items):
            var substituted: [JSONValue] = []
            for item in items { substituted.append(try substituting(item)) }
            return .array(substituted)
        case .object(let members):
            var substituted: [(String, JSONValue)] = []
            for (key, value) in members { substituted.append((key, try substituting(value))) }
            return .object(substituted)
        case .number, .bool, .null: return json
        }
    }

    /// Evaluates every variable once, so that a value breaking a limit fails up front.
    /// - Throws: `BerthError` naming the first such variable.
    public func checkLimits() throws(BerthError) {
        for entry in all { _ = try expanding(entry.value, from: entry.name) }
    }

    /// Names referenced in `text` (after expansion) that no variable defines.
    public func unresolvedReferences(in text: String) -> [String] {
        var names: [String] = []
        for reference in Self.references(in: evaluate(text)) where self[reference.name] == nil {
            if !names.contains(reference.name) { names.append(reference.name) }
        }
        return names
    }

    /// Every unresolved name in the strings of `json`.
    public func unresolvedReferences(in json: JSONValue) -> [String] {
        switch json {
        case .string(let text): unresolvedReferences(in: text)
        case .array(let items): Self.unique(items.flatMap(unresolvedReferences))
        case .object(let members): Self.unique(members.flatMap { unresolvedReferences(in: $0.1) })
        case .number, .bool, .null: []
        }
    }

    /// Every name (lower-cased) that the strings of `json` refer to, directly or through the values
    /// of the variables they name, known or not.
    public func referencedNames(in json: JSONValue) -> Set<String> {
        var found = Set<String>()
        var pending: [String] = []
        func collect(_ text: String) {
            for reference in Self.references(in: text) where found.insert(reference.name.lowercased()).inserted {
                pending.append(reference.name.lowercased())
            }
        }
        func walk(_ json: JSONValue) {
            switch json {
            case .string(let text): collect(text)
            case .array(let items): for item in items { walk(item) }
            case .object(let members): for (_, value) in members { walk(value) }
            case .number, .bool, .null: break
            }
        }
        walk(json)
        while let name = pending.popLast() {
            if let entry = entries[name] { collect(entry.value) }
        }
        return found
    }

    /// The evaluated values of sensitive variables, to mask.
    public var sensitiveValues: [String] {
        all.filter(\.isSensitive).flatMap { entry in [entry.value, evaluated(entry.name) ?? entry.value] }
    }

    /// Name and value of every variable for `BerthPrintVariables` (raw) or
    /// `BerthPrintEvaluatedVariables` (evaluated); sensitive values are `********`.
    public func listing(evaluated: Bool) -> [(name: String, value: String)] {
        all.sorted { $0.name.lowercased() < $1.name.lowercased() }.map { entry in
            if entry.isSensitive { return (entry.name, LogMasker.mask) }
            return (entry.name, evaluated ? (self.evaluated(entry.name) ?? entry.value) : entry.value)
        }
    }

    private static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// Which limit an expansion broke, and the chain of references that led there.
    private struct ExpansionLimit: Error {
        var tooDeep: Bool
        var chain: [String]
    }

    /// `text` expanded; `name` is the variable whose value `text` is, if any.
    private func expanding(_ text: String, from name: String?) throws(BerthError) -> String {
        guard text.contains("#{") else { return text }
        var chain = name.map { [$0] } ?? []
        var visiting = Set(chain.map { $0.lowercased() })
        var memo: [String: Expansion] = [:]
        do {
            return try expand(text, limit: Self.maximumExpandedBytes, chain: &chain, visiting: &visiting, memo: &memo).text
        } catch {
            throw Self.describe(error, text: text)
        }
    }

    private static func describe(_ limit: ExpansionLimit, text: String) -> BerthError {
        let chain = limit.chain.count <= 6 ? limit.chain : Array(limit.chain.prefix(3)) + ["…"] + limit.chain.suffix(2)
        let path = chain.map { $0 == "…" ? $0 : "#{\($0)}" }.joined(separator: " → ")
        let subject = limit.chain.first.map { "The variable '\($0)'" } ?? "The text '\(text.prefix(60))'"
        if limit.tooDeep {
            return BerthError(
                .validationFailed,
                "\(subject) nests references more than \(maximumNestingDepth) levels deep (\(path)); Berth stops there. Reference the value you need more directly."
            )
        }
        return BerthError(
            .validationFailed,
            "\(subject) expands to more than 1 MiB (\(maximumExpandedBytes) bytes, through \(path)); Berth stops there. Look for values that repeat a reference (A = #{B}#{B}, B = #{C}#{C}…)."
        )
    }

    /// A variable's value expanded once, reused for every further reference to it in the same
    /// expansion, which keeps doubling values linear in the size of their result.
    private struct Expansion {
        var text: String
        /// How many references deep the expansion went.
        var depth: Int
        /// Whether a cycle was cut short: then the result depends on the path and is not reused.
        var isCut: Bool
    }

    private func expand(
        _ text: String, limit: Int, chain: inout [String], visiting: inout Set<String>, memo: inout [String: Expansion]
    ) throws(ExpansionLimit) -> Expansion {
        var result = Expansion(text: "", depth: 0, isCut: false)
        guard text.contains("#{") else {
            try append(Substring(text), to: &result.text, limit: limit, chain: chain)
            return result
        }
        var rest = Substring(text)
        while let start = rest.range(of: "#{") {
            try append(rest[rest.startIndex..<start.lowerBound], to: &result.text, limit: limit, chain: chain)
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                try append(rest[start.lowerBound...], to: &result.text, limit: limit, chain: chain)
                return result
            }
            let name = rest[start.upperBound..<end].trimmingCharacters(in: .whitespaces)
            let key = name.lowercased()
            if let entry = entries[key], !visiting.contains(key) {
                chain.append(entry.name)
                let inner: Expansion
                if let known = memo[key] {
                    inner = known
                } else {
                    guard chain.count <= Self.maximumNestingDepth else { throw ExpansionLimit(tooDeep: true, chain: chain) }
                    visiting.insert(key)
                    inner = try expand(
                        entry.value, limit: limit - result.text.utf8.count, chain: &chain, visiting: &visiting, memo: &memo)
                    visiting.remove(key)
                    if !inner.isCut { memo[key] = inner }
                }
                // A reused expansion still counts its depth where it is used.
                guard chain.count + inner.depth <= Self.maximumNestingDepth else {
                    throw ExpansionLimit(tooDeep: true, chain: chain + ["…"])
                }
                try append(Substring(inner.text), to: &result.text, limit: limit, chain: chain)
                result.depth = max(result.depth, inner.depth + 1)
                result.isCut = result.isCut || inner.isCut
                chain.removeLast()
            } else {
                if entries[key] != nil { result.isCut = true }
                try append(rest[start.lowerBound...end], to: &result.text, limit: limit, chain: chain)
            }
            rest = rest[rest.index(after: end)...]
        }
        try append(rest, to: &result.text, limit: limit, chain: chain)
        return result
    }

    private func append(_ piece: Substring, to output: inout String, limit: Int, chain: [String]) throws(ExpansionLimit) {
        guard output.utf8.count + piece.utf8.count <= limit else { throw ExpansionLimit(tooDeep: false, chain: chain) }
        output += piece
    }

    static func references(in text: String) -> [(name: String, range: Range<String.Index>)] {
        var found: [(String, Range<String.Index>)] = []
        var searchStart = text.startIndex
        while let start = text.range(of: "#{", range: searchStart..<text.endIndex),
            let end = text[start.upperBound...].firstIndex(of: "}")
        {
            found.append((text[start.upperBound..<end].trimmingCharacters(in: .whitespaces), start.lowerBound..<end))
            searchStart = text.index(after: end)
        }
        return found
    }
}

extension VariableDictionary.Entry: Codable {}

/// A dictionary travels in a step job as its entries, in the order they were first set.
extension VariableDictionary: Codable {
    public init(from decoder: any Decoder) throws {
        self.init()
        for entry in try [Entry](from: decoder) { set(entry.name, entry.value, sensitive: entry.isSensitive) }
    }

    public func encode(to encoder: any Encoder) throws {
        try all.encode(to: encoder)
    }
}
