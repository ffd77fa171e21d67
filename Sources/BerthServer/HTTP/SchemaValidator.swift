import BerthDomain
import Foundation

/// Checks a request's values against the OpenAPI document's schemas, so that every constraint the
/// document states (lengths, ranges, item counts, patterns, enums, required members) is the one the
/// server enforces, answered with the field and what is wrong with it.
enum SchemaValidator {
    /// The problems of a JSON value, each under the path of the field at fault. A value of the
    /// wrong type is left to the body's decoder, which names the field and the type; null is not a
    /// value of any of the document's types.
    static func validate(_ value: RequestJSON, against schema: APISchema, at field: String, into errors: inout ValidationErrors) {
        switch (value, schema.type) {
        case (.null, .some):
            errors.add(name(field), "must not be null; leave the field out instead")
        case (.number(let number), "integer"), (.number(let number), "number"):
            if schema.type == "integer", number.rounded() != number { return }
            checkRange(number, schema, field, &errors)
        case (.string(let string), "string"):
            checkString(string, schema, field, &errors)
        case (.array(let items), "array"):
            if let maxItems = schema.maxItems, items.count > maxItems {
                errors.add(name(field), "has \(items.count) items; the limit is \(maxItems)")
            }
            if let minItems = schema.minItems, items.count < minItems {
                errors.add(name(field), "needs at least \(minItems) item\(minItems == 1 ? "" : "s")")
            }
            if let itemSchema = schema.items {
                for (index, item) in items.enumerated() {
                    validate(item, against: itemSchema, at: "\(field)[\(index)]", into: &errors)
                }
            }
        case (.object(let members), "object"):
            if let maxProperties = schema.maxProperties, members.count > maxProperties {
                errors.add(name(field), "has \(members.count) entries; the limit is \(maxProperties)")
            }
            if let minProperties = schema.minProperties, members.count < minProperties {
                let names = schema.properties.keys.sorted().joined(separator: ", ")
                errors.add(name(field), "needs at least \(minProperties) of \(names)")
            }
            for key in schema.required where members[key] == nil {
                errors.add(join(field, key), "is required")
            }
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let memberSchema = schema.properties[key] ?? schema.additionalProperties {
                    validate(member, against: memberSchema, at: join(field, key), into: &errors)
                } else if schema.isClosed {
                    // A typo must fail the request, not be dropped: the AWS CLI refuses an unknown member too.
                    let known = schema.properties.keys.sorted()
                    errors.add(
                        join(field, key),
                        "is not a known member\(ClosestName.hint(key, among: known)); known members: \(known.joined(separator: ", "))"
                    )
                }
            }
        default:
            return
        }
    }

    /// The problems of a query or path parameter, as it arrived (text).
    static func validateParameter(
        _ text: String, against schema: APISchema, name field: String, into errors: inout ValidationErrors
    ) {
        switch schema.type {
        case "integer":
            guard let number = Int(text) else {
                errors.add(field, "must be an integer (got '\(text.prefix(50))')")
                return
            }
            checkRange(Double(number), schema, field, &errors)
        case "boolean":
            if text != "true" && text != "false" { errors.add(field, "must be true or false (got '\(text.prefix(50))')") }
        default:
            checkString(text, schema, field, &errors)
        }
    }

    static func checkString(_ string: String, _ schema: APISchema, _ field: String, _ errors: inout ValidationErrors) {
        if let allowed = schema.enumValues, !allowed.contains(string) {
            errors.add(name(field), "'\(string.prefix(50))' is not one of \(allowed.joined(separator: ", "))")
            return
        }
        // JSON Schema counts code points, as the document's readers do.
        let length = string.unicodeScalars.count
        if let maxLength = schema.maxLength, length > maxLength {
            errors.add(name(field), "is \(length) characters long; the limit is \(maxLength)")
        } else if let minLength = schema.minLength, length < minLength {
            errors.add(name(field), minLength == 1 ? "must not be empty" : "needs at least \(minLength) characters")
        } else if let pattern = schema.pattern, let expression = schema.expression, !matches(string, expression) {
            errors.add(name(field), "does not have the expected form (the pattern \(pattern))")
        }
    }

    static func checkRange(_ number: Double, _ schema: APISchema, _ field: String, _ errors: inout ValidationErrors) {
        if let minimum = schema.minimum, number < minimum {
            errors.add(name(field), "must be at least \(format(minimum)) (got \(format(number)))")
        } else if let maximum = schema.maximum, number > maximum {
            errors.add(name(field), "must be at most \(format(maximum)) (got \(format(number)))")
        }
    }

    static func matches(_ string: String, _ expression: NSRegularExpression) -> Bool {
        let range = NSRange(string.startIndex..., in: string)
        return expression.firstMatch(in: string, range: range) != nil
    }

    static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    static func join(_ field: String, _ key: String) -> String { field.isEmpty ? key : "\(field).\(key)" }

    static func name(_ field: String) -> String { field.isEmpty ? "body" : field }
}
