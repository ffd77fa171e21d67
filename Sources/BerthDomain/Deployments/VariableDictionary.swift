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
/// (`#{Url}` → `https://#{Host}`); a cycle stops expanding where it closes.
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

    /// The value of `name` with its references expanded.
    public func evaluated(_ name: String) -> String? {
        guard let entry = self[name] else { return nil }
        var visiting: Set<String> = [name.lowercased()]
        return expand(entry.value, visiting: &visiting)
    }

    /// `text` with every `#{Name}` of a known name replaced by its evaluated value.
    public func evaluate(_ text: String) -> String {
        var visiting = Set<String>()
        return expand(text, visiting: &visiting)
    }

    /// Every string in `json` evaluated (object keys are left alone).
    public func substitute(_ json: JSONValue) -> JSONValue {
        switch json {
        case .string(let text): .string(evaluate(text))
        case .array(let items): .array(items.map(substitute))
        case .object(let members): .object(members.map { ($0.0, substitute($0.1)) })
        case .number, .bool, .null: json
        }
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

    private func expand(_ text: String, visiting: inout Set<String>) -> String {
        guard text.contains("#{") else { return text }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "#{") {
            output += rest[rest.startIndex..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                output += rest[start.lowerBound...]
                return output
            }
            let name = rest[start.upperBound..<end].trimmingCharacters(in: .whitespaces)
            let key = name.lowercased()
            if let entry = entries[key], !visiting.contains(key) {
                visiting.insert(key)
                output += expand(entry.value, visiting: &visiting)
                visiting.remove(key)
            } else {
                output += rest[start.lowerBound...end]
            }
            rest = rest[rest.index(after: end)...]
        }
        output += rest
        return output
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
