import Foundation
import Perception
import XCTest

/// `scripts/setup --weights-only`: the feature network's weights as a step of their own, without a build.
final class SetupScriptTests: XCTestCase {
    func testWeightsOnlyBuildsNothing() throws {
        try ToolRunner.requireFeatureNetwork()
        let dir = try ToolRunner.temporaryDirectory(self)
        // A copy of the installed weights, so nothing is fetched; no swift on PATH, so a build would fail.
        try FileManager.default.copyItem(atPath: EfficientNetLite0.defaultWeightsPath(),
                                         toPath: dir.appendingPathComponent("efficientnet-lite0.safetensors").path)
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .filter { !FileManager.default.isExecutableFile(atPath: "\($0)/swift") }.joined(separator: ":")
        let setup = ToolRunner.packageRoot.appendingPathComponent("scripts/setup").path
        let result = try ToolRunner.shell("PATH='\(path)' '\(setup)' --weights-only", directory: dir,
                                          environment: ["MNEMOSYNE_DATA": dir.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.hasSuffix("setup: EfficientNet-Lite0 weights in \(dir.path)/efficientnet-lite0.safetensors\n"),
                      result.stderr)
        XCTAssertFalse(result.stderr.contains("building"), result.stderr)
    }
}
