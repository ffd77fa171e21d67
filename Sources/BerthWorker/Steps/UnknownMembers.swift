import BerthDomain

/// A type that reads a JSON object some other way than member by member into its stored
/// properties (`{"KEY": "value"}` into a list of pairs): its members are not checked.
protocol FreeFormJSONObject {}

/// Finds a member of a JSON document that the value decoded from it has no property for — the
/// typo `portMapping` in a container definition, which `Decodable` drops in silence. The AWS
/// shapes are generated with one stored property per member of the API, named as the member, so
/// a value's properties are exactly the members it accepts.
enum UnknownMembers {
    struct Found: Sendable, Hashable {
        /// Where the unknown member is: `containerDefinitions[0].portMapping`.
        var path: String
        var member: String
        /// The members accepted at that place.
        var known: [String]

        /// "has an unknown member containerDefinitions[0].portMapping (did you mean portMappings?)".
        var description: String {
            "has an unknown member \(path)\(ClosestName.hint(member, among: known))"
        }
    }

    /// The first member of `json` that `value` (decoded from it) has no property for.
    static func first(in json: JSONValue, decodedAs value: Any, path: String = "") -> Found? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return first(in: json, decodedAs: wrapped, path: path)
        }
        switch json {
        case .object(let members):
            guard mirror.displayStyle == .struct || mirror.displayStyle == .class, !(value is any FreeFormJSONObject) else {
                return nil
            }
            var properties: [String: Any] = [:]
            for child in mirror.children {
                if let label = child.label { properties[label] = child.value }
            }
            guard !properties.isEmpty else { return nil }
            for (name, member) in members {
                let memberPath = path.isEmpty ? name : "\(path).\(name)"
                guard let property = properties[name] else {
                    return Found(path: memberPath, member: name, known: properties.keys.sorted())
                }
                if let found = first(in: member, decodedAs: property, path: memberPath) { return found }
            }
            return nil
        case .array(let elements):
            guard mirror.displayStyle == .collection else { return nil }
            let items = mirror.children.map(\.value)
            guard items.count == elements.count else { return nil }
            for (index, (element, item)) in zip(elements, items).enumerated() {
                if let found = first(in: element, decodedAs: item, path: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
