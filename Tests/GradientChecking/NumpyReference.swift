import Foundation
import PythonReference
import XCTest

/// Runs `script` in python3 with `cases` as JSON on its stdin and decodes the rows of numbers it prints:
/// the independent float64 reference that numpy cross-checks compare against. Skips the test when
/// python3 or numpy is missing (scripts/setup installs numpy, not python3 itself).
public func numpyReference(script: String, cases: some Encodable) throws -> [[Double]] {
    let run = try runPython(["-c", script], input: try JSONEncoder().encode(cases))
    return try JSONDecoder().decode([[Double]].self, from: Data(run.output.utf8))
}
