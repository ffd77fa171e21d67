import Testing

@testable import BerthDomain

/// Slugs keep ASCII letters and digits only: the letter test without Unicode's property table
/// gives what the table gives.
@Suite struct SlugTests {
    /// `Slug.make` as it was written with `Unicode.Scalar.Properties.isAlphabetic`.
    static func reference(_ name: String) -> String {
        var slug = ""
        var pendingHyphen = false
        for scalar in name.lowercased().unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if pendingHyphen, !slug.isEmpty { slug.append("-") }
                pendingHyphen = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingHyphen = true
            }
        }
        return slug
    }

    @Test("Every character of the Basic Multilingual Plane and beyond slugs as the property table says")
    func sameAsThePropertyTable() {
        var scalars = (0...0xFFFF).compactMap(Unicode.Scalar.init)
        scalars += [0x1_0400, 0x1_D400, 0x1_F680, 0x1_E900, 0x2_0000].compactMap(Unicode.Scalar.init)
        for scalar in scalars {
            let name = "x\(scalar)Y \(scalar)"
            #expect(Slug.make(name) == Self.reference(name), "U+\(String(scalar.value, radix: 16))")
        }
    }
}
