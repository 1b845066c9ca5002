import Foundation
import Neural
import Perception
import Safetensors
import PythonReference
import XCTest

/// The engine's EfficientNet-Lite0 with the real weights against PyTorch in float64: the same network written
/// from the state dict in scripts/lite0_reference.py, which wrote Fixtures/lite0-reference.json (rerun it to
/// regenerate them). Tests that need the weights skip when scripts/setup has not fetched them.
final class EfficientNetLite0Tests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func network(inputScale: Int = 1) throws -> EfficientNetLite0 {
        let path = EfficientNetLite0.defaultWeightsPath()
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("no EfficientNet-Lite0 weights at \(path): run scripts/setup to fetch them")
        }
        return try EfficientNetLite0(weightsAt: path, inputScale: inputScale)
    }

    /// The script's `pictures`: smooth stripes and a finer texture per picture and channel, in [-1, 1].
    private func pictures(batch: Int, size: Int) -> Tensor {
        let t = Tensor(shape: [batch, 3, size, size])
        var index = 0
        for n in 0..<batch {
            for c in 0..<3 {
                for y in 0..<size {
                    for x in 0..<size {
                        let (nd, cd, yd, xd) = (Double(n), Double(c), Double(y), Double(x))
                        let stripes = sin(0.11 * (nd + 1) * xd + 0.07 * (cd + 1) * yd + 0.5 * nd + cd) * cos(0.05 * xd - 0.09 * (cd + 1) * yd)
                        t[index] = Float(0.9 * stripes + 0.1 * sin(2.3 * xd + 1.9 * yd + cd))
                        index += 1
                    }
                }
            }
        }
        return t
    }

    private func sampled(_ t: Tensor, _ count: Int = 16) -> [Double] { (0..<count).map { Double(t[($0 * 7919) % t.count]) } }

    private func statistics(_ t: Tensor) -> [Double] {
        let values = t.scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let magnitude = values.reduce(0) { $0 + abs($1) } / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return [mean, magnitude, variance.squareRoot()]
    }

    /// The numbers the script records for one case.
    private func engineNumbers(_ net: EfficientNetLite0, case name: String, size: Int) -> [String: [Double]] {
        let x = pictures(batch: 2, size: size)
        var out: [String: [Double]] = [:]
        let maps = net.features(x)
        var weights: [Tensor] = []
        for (i, map) in maps.enumerated() {
            out["\(name).map\(i).shape"] = map.shape.map(Double.init)
            out["\(name).map\(i)"] = statistics(map) + sampled(map)
            weights.append(Tensor(shape: map.shape, scalars: (0..<map.count).map { Float(cos(0.37 * Double($0) + Double(i)) / Double(map.count)) }))
        }
        out["\(name).gradient"] = { statistics($0) + sampled($0, 24) }(net.inputGradient(weights))
        let pooled = net.pooledFeatures(x)
        XCTAssertEqual(pooled.shape, [2, 1280])
        out["\(name).pooled"] = [statistics(pooled)[0]] + sampled(pooled)
        return out
    }

    func testMatchesPyTorchInFloat64() throws {
        let url = Self.packageRoot.appendingPathComponent("Tests/PerceptionTests/Fixtures/lite0-reference.json")
        let reference = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [Double]])
        var ours: [String: [Double]] = [:]
        ours.merge(engineNumbers(try network(inputScale: 1), case: "scale1", size: 64)) { $1 }
        ours.merge(engineNumbers(try network(inputScale: 2), case: "scale2", size: 32)) { $1 }
        XCTAssertEqual(Set(ours.keys), Set(reference.keys))
        for (name, expected) in reference.sorted(by: { $0.key < $1.key }) {
            guard let got = ours[name], got.count == expected.count else { XCTFail("\(name): missing or misshapen"); continue }
            // float32 through 16 blocks against float64: within 2e-5 of the quantity's typical size (its mean
            // magnitude; entries of the maps reach a few times that). Measured: at most 3.4e-6.
            let scale = name.hasSuffix(".shape") ? 0 : name.hasSuffix("pooled") ? expected.map(abs).max()! : expected[1]
            for (i, (a, b)) in zip(got, expected).enumerated() {
                XCTAssertEqual(a, b, accuracy: 2e-5 * scale, "\(name)[\(i)]")
            }
        }
    }

    func testNoTensorAllocationAfterWarmUp() throws {
        let net = try network(inputScale: 2)
        let x = pictures(batch: 2, size: 32)
        func pass() {
            let maps = net.features(x)
            _ = net.inputGradient(maps.map { $0.copy() })
        }
        pass()
        _ = net.pooledFeatures(x)
        let gradients = net.features(x).map { $0.copy() }
        let before = Tensor.storageAllocations
        _ = net.features(x)
        _ = net.inputGradient(gradients)
        _ = net.pooledFeatures(x)
        _ = net.features(x)
        _ = net.inputGradient(gradients)
        XCTAssertEqual(Tensor.storageAllocations, before)
    }

    func testMapShapesFollowTheStrides() throws {
        let net = try network()
        let maps = net.features(Tensor(shape: [1, 3, 96, 64]))
        XCTAssertEqual(maps.map(\.shape), zip(net.featureChannels, net.featureStrides).map { [1, $0, 96 / $1, 64 / $1] })
        // Upsampled ×2 first, half the pictures give the same maps: the strides are over the pictures passed in.
        let upsampling = try network(inputScale: 2)
        XCTAssertEqual(upsampling.featureStrides, net.featureStrides.map { $0 / 2 })
        XCTAssertEqual(upsampling.features(Tensor(shape: [1, 3, 48, 32])).map(\.shape), maps.map(\.shape))
    }

    func testDefaultPlaceFollowsTheEnvironment() {
        let name = EfficientNetLite0.weightsFileName
        XCTAssertEqual(EfficientNetLite0.defaultWeightsPath(environment: ["MNEMOSYNE_DATA": "/d", "XDG_DATA_HOME": "/x", "HOME": "/h"]),
                       "/d/\(name)")
        XCTAssertEqual(EfficientNetLite0.defaultWeightsPath(environment: ["MNEMOSYNE_DATA": "", "XDG_DATA_HOME": "/x", "HOME": "/h"]),
                       "/x/mnemosyne/\(name)")
        XCTAssertEqual(EfficientNetLite0.defaultWeightsPath(environment: ["HOME": "/h"]), "/h/.local/share/mnemosyne/\(name)")
    }

    func testMissingAndBadWeightsNameTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lite0-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func message(_ path: String) -> String {
            do {
                _ = try EfficientNetLite0(weightsAt: path)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        let missing = folder.appendingPathComponent("none.safetensors").path
        XCTAssertEqual(message(missing), "no EfficientNet-Lite0 weights (run scripts/setup to fetch them, or set MNEMOSYNE_DATA to their folder): \(missing)")

        let garbage = folder.appendingPathComponent("garbage.safetensors").path
        _ = FileManager.default.createFile(atPath: garbage, contents: Data("not a model".utf8))
        XCTAssertTrue(message(garbage).hasPrefix("bad EfficientNet-Lite0 weights, "), message(garbage))
        XCTAssertTrue(message(garbage).hasSuffix(": \(garbage)"))

        let partial = folder.appendingPathComponent("partial.safetensors").path
        let stem = SafetensorsTensor(floats: [Float](repeating: 0, count: 32 * 27), shape: [32, 3, 3, 3])
        _ = FileManager.default.createFile(atPath: partial,
                                           contents: Data(SafetensorsFile(tensors: ["_conv_stem.weight": stem]).serialized()))
        XCTAssertEqual(message(partial), "bad EfficientNet-Lite0 weights, no tensor _bn0.weight: \(partial)")
        XCTAssertFalse(message(partial).contains("\n"))
    }

    /// The weights converter's own tests (scripts/test_lite0_weights.py), among them that its unpickler
    /// refuses a pickle naming a foreign global: CI runs them through this test.
    func testWeightsConverterRefusesForeignGlobals() throws {
        let run = try runPython([Self.packageRoot.appendingPathComponent("scripts/test_lite0_weights.py").path])
        // unittest reports on stderr.
        XCTAssertTrue((run.output + run.errors).contains("Ran 5 tests"), run.errors + run.output)
    }
}
