import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A parsed XML element: enough of a DOM to read AWS Query protocol answers.
public struct XMLTree: Sendable, Hashable {
    public var name: String
    /// The element's own text (character data directly inside it), trimmed.
    public var text: String
    public var children: [XMLTree]

    public init(name: String, text: String = "", children: [XMLTree] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    /// The first child element called `name`.
    public func child(_ name: String) -> XMLTree? {
        children.first { $0.name == name }
    }

    /// The text of the element at a path of child names, e.g. `string("Credentials", "AccessKeyId")`.
    public func string(_ path: String...) -> String? {
        var node = self
        for name in path {
            guard let next = node.child(name) else { return nil }
            node = next
        }
        return node.text
    }

    /// The first element called `name` at any depth, this one included (depth first).
    public func firstDescendant(named name: String) -> XMLTree? {
        if self.name == name { return self }
        for child in children {
            if let found = child.firstDescendant(named: name) { return found }
        }
        return nil
    }

    /// Parses a document and returns its root element.
    public static func parse(_ bytes: [UInt8]) throws(AWSClientError) -> XMLTree {
        let builder = Builder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw AWSClientError(.invalidResponse, "The answer is not well-formed XML (\(reason)).")
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var texts: [String] = []
        var root: XMLTree?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            stack.append(XMLTree(name: elementName))
            texts.append("")
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !texts.isEmpty else { return }
            texts[texts.count - 1] += string
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            guard !texts.isEmpty else { return }
            texts[texts.count - 1] += String(decoding: block, as: UTF8.self)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            guard var element = stack.popLast(), let text = texts.popLast() else { return }
            element.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if stack.isEmpty {
                root = element
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }
    }
}
