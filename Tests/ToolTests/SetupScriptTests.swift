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

/// `scripts/install`: the tools under a prefix, under names of their own, with man pages and completions.
final class InstallScriptTests: XCTestCase {
    func testInstallsPrefixedToolsWithManPagesAndCompletions() throws {
        let prefix = try ToolRunner.temporaryDirectory(self)
        let install = ToolRunner.packageRoot.appendingPathComponent("scripts/install").path
        let result = try ToolRunner.shell("""
            MNEMOSYNE_BIN='\(ToolRunner.binDirectory.path)' '\(install)' --name-prefix mn- "$PWD/usr"
            usr/bin/mn-sample --version
            usr/bin/mn-inspect nothing.tns 2>&1 || true
            ls usr/libexec/mnemosyne | tr '\\n' ' '; echo
            head -1 usr/share/man/man1/mn-train.1
            tail -1 usr/share/bash-completion/completions/mn-walk
            head -1 usr/share/zsh/site-functions/_mn-score
            """, directory: prefix)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        let version = String(decoding: try ToolRunner.run("sample", ["--version"]).stdout, as: UTF8.self)
        XCTAssertEqual(lines, [
            version.trimmingCharacters(in: .newlines),
            "nothing.tns: unreadable (No such file or directory)",
            "mn-inspect: No such file or directory: nothing.tns",
            "encode ingest inspect project sample score synth train walk ",
            #".TH "MN-TRAIN" 1 "" "mnemosyne" "mnemosyne tools""#,
            "complete -o filenames -F _walk mn-walk",
            "#compdef mn-score",
        ])
        XCTAssertFalse(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("usr/bin/train").path),
                       "the short names stay free")
    }
}
