import Foundation
// placeholder
