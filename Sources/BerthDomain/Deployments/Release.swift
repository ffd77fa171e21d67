import Foundation

/// A version of a project: its process, its variables and the image of every container, frozen when
/// the release was created so that deploying it to Staging and then Production ships the same thing.
public struct Release: Sendable, Hashable {
    public var id: String
    public var spaceID: String
    public var projectID: String
    public var version: String
    public var snapshot: ReleaseSnapshot
    public var createdAt: Date

    public init(
        id: String = RecordID.make("rel"), spaceID: String, projectID: String, version: String, snapshot: ReleaseSnapshot,
        createdAt: Date
    ) {
        self.id = id
        self.spaceID = spaceID
        self.projectID = projectID
        self.version = version
        self.snapshot = snapshot
        self.createdAt = createdAt
    }

    /// 1 to 100 characters of letters, digits and `.-+_` (SemVer and build numbers fit).
    public static func validateVersion(_ version: String, into errors: inout ValidationErrors) {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-+_"))
        if version.isEmpty || version.count > 100 || version.unicodeScalars.contains(where: { !allowed.contains($0) }) {
            errors.add("version", "'\(version)' is not a release version: use 1 to 100 letters, digits, '.', '-', '+' or '_'")
        } else if version.lowercased() == "previous" {
            errors.add("version", "'previous' is a keyword (berth deploy --release previous goes back): choose another version")
        }
    }
}

/// What a release froze. Sensitive values stay sealed (under their variable's binding).
public struct ReleaseSnapshot: Sendable, Hashable, Codable {
    public var steps: [DeploymentStep]
    public var variables: [ProjectVariable]
    /// Container name → image (`REPO:TAG` or `REPO@sha256:…`).
    public var images: [String: String]

    public init(steps: [DeploymentStep], variables: [ProjectVariable], images: [String: String]) {
        self.steps = steps
        self.variables = variables
        self.images = images
    }

    /// Freezes `project`'s process and variables with the images chosen: `chosen` (container →
    /// image) wins over the image a step names. Every container must end with a pinned image, and
    /// every chosen container must exist.
    public static func freeze(
        project: Project, variables: [ProjectVariable], chosen: [String: String]
    ) throws(BerthError) -> ReleaseSnapshot {
        var errors = ValidationErrors()
        let references = ContainerReference.all(in: project.steps)
        if project.steps.isEmpty {
            errors.add("project", "'\(project.name)' has no steps yet; apply a process first (berth project apply)")
        }
        for name in chosen.keys.sorted() where !references.contains(where: { $0.container == name }) {
            let known = Set(references.map(\.container)).sorted().joined(separator: ", ")
            errors.add("images", "no step has a container named '\(name)' (containers: \(known.isEmpty ? "none" : known))")
        }
        var images: [String: String] = [:]
        for reference in references {
            guard let image = chosen[reference.container] ?? reference.image else {
                if reference.isRequired {
                    errors.add(
                        "images",
                        "the container '\(reference.container)' of step '\(reference.step)' has no image; give one with --image \(reference.container)=REPO:TAG"
                    )
                }
                continue
            }
            if let existing = images[reference.container], existing != image, chosen[reference.container] == nil {
                errors.add(
                    "images",
                    "the container '\(reference.container)' has two images ('\(existing)', '\(image)'); choose one with --image \(reference.container)=REPO:TAG"
                )
                continue
            }
            if let problem = ImageReference.problem(with: image) {
                errors.add("images", "the image of container '\(reference.container)' \(problem)")
                continue
            }
            images[reference.container] = image
        }
        try errors.throwIfAny("release")
        return ReleaseSnapshot(steps: project.steps, variables: variables, images: images)
    }
}

/// A container a step deploys, and the image the step names for it (if any).
public struct ContainerReference: Sendable, Hashable {
    public var step: String
    public var container: String
    public var image: String?
    /// A container a deploy step defines needs an image; an update step may leave the template's.
    public var isRequired: Bool

    /// Containers of Deploy steps (`taskDefinition.containerDefinitions`) and Update steps
    /// (`containers`).
    public static func all(in steps: [DeploymentStep]) -> [ContainerReference] {
        steps.flatMap { step -> [ContainerReference] in
            let containers: [JSONValue]
            switch step.kind {
            case .deployService:
                guard case .array(let items)? = step.properties["taskDefinition"]?["containerDefinitions"] else { return [] }
                containers = items
            case .updateService:
                guard case .array(let items)? = step.properties["containers"] else { return [] }
                containers = items
            case .runTask, .awsCLIScript, .manualIntervention:
                return []
            }
            return containers.compactMap { container in
                guard case .string(let name)? = container["name"] else { return nil }
                var image: String?
                if case .string(let value)? = container["image"] { image = value }
                return ContainerReference(
                    step: step.name, container: name, image: image, isRequired: step.kind == .deployService)
            }
        }
    }
}

/// Image references as Docker writes them.
public enum ImageReference {
    /// Why `image` cannot be frozen into a release, or nil when it can: it needs a tag or digest,
    /// and cannot come from a variable (the release would not pin it).
    public static func problem(with image: String) -> String? {
        if image.contains("#{") { return "'\(image)' comes from a variable; a release pins images, so give it with --image" }
        if image.isEmpty || image.contains(where: \.isWhitespace) { return "'\(image)' is not an image reference" }
        if image.contains("@sha256:") { return nil }
        let lastComponent = image.split(separator: "/").last ?? ""
        guard let colon = lastComponent.lastIndex(of: ":"), lastComponent[lastComponent.index(after: colon)...].count > 0
        else {
            return "'\(image)' has no tag; pin one (REPO:TAG or REPO@sha256:…)"
        }
        return nil
    }
}

extension JSONValue {
    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }
}
