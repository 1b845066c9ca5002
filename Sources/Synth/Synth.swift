import Dispatch
import Foundation
import Imaging

/// The themed sample sets, one per gallery piece plus the two portrait sets of the Plato → David piece.
/// Every set is synthetic: procedural pictures, not photographs.
public enum SynthKind: String, CaseIterable, Sendable {
    case universe, tectonics, ocean, planet, architecture, butterfly, plato, david

    /// One line for `synth --list`.
    public var summary: String {
        switch self {
        case .universe: return "nebulae, star fields and spiral galaxies"
        case .tectonics: return "tectonic plates seen from above, with ridges, rifts and lava glow"
        case .ocean: return "ocean surfaces with waves and sun glitter, and depths with light shafts"
        case .planet: return "planets with continents, clouds, atmospheres and rings on starry space"
        case .architecture: return "building facades: classical columns, arcades, gothic windows, glass grids"
        case .butterfly: return "symmetric butterfly wings with varied shapes, patterns and colours"
        case .plato: return "marble-bust-like bearded heads, pale stone, classical lighting"
        case .david: return "bronze heroic heads in profile, curly hair, warm highlights"
        }
    }
}

/// A kind of picture: random parameters drawn once in `init`, then a colour for any point of the unit square.
protocol Scene: Sendable {
    init(random: inout SplitMix64)
    func color(at p: Point) -> RGB
}

/// Renders the sample sets: deterministic for (kind, seed, index), antialiased by supersampling.
public enum Synth {
    /// Samples per pixel side: 3×3 sub-samples smooth edges and thin lines at every size.
    public static let defaultSupersample = 3

    /// Picture number `index` of the set (`kind`, `seed`), `size`×`size` RGB.
    public static func image(kind: SynthKind, seed: UInt64, index: Int, size: Int,
                             supersample: Int = defaultSupersample) -> Image {
        // Mix kind, seed and index so neighbouring seeds or indices give unrelated pictures.
        var mixer = SplitMix64(seed: stableHash(kind.rawValue) ^ seed &* 0x9E37_79B9_7F4A_7C15)
        var random = SplitMix64(seed: mixer.next() ^ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03)
        _ = random.next()
        switch kind {
        case .universe: return render(UniverseScene(random: &random), size: size, supersample: supersample)
        case .tectonics: return render(TectonicsScene(random: &random), size: size, supersample: supersample)
        case .ocean: return render(OceanScene(random: &random), size: size, supersample: supersample)
        case .planet: return render(PlanetScene(random: &random), size: size, supersample: supersample)
        case .architecture: return render(ArchitectureScene(random: &random), size: size, supersample: supersample)
        case .butterfly: return render(ButterflyScene(random: &random), size: size, supersample: supersample)
        case .plato: return render(PlatoScene(random: &random), size: size, supersample: supersample)
        case .david: return render(DavidScene(random: &random), size: size, supersample: supersample)
        }
    }

    /// Pictures `indices` of the set, rendered in parallel on every core, in index order.
    public static func images(kind: SynthKind, seed: UInt64, indices: Range<Int>, size: Int,
                              supersample: Int = defaultSupersample) -> [Image] {
        let results = ResultSlots(count: indices.count)
        DispatchQueue.concurrentPerform(iterations: indices.count) { offset in
            let picture = image(kind: kind, seed: seed, index: indices.lowerBound + offset, size: size,
                                supersample: supersample)
            results.store(picture, at: offset)
        }
        return results.collected()
    }

    /// Averages `supersample`² evenly spaced samples of the scene per pixel.
    static func render<S: Scene>(_ scene: S, size: Int, supersample: Int) -> Image {
        let n = max(1, supersample)
        var picture = Image(width: size, height: size)
        let step = 1 / Float(size * n)
        let weight = 1 / Float(n * n)
        for y in 0..<size {
            for x in 0..<size {
                var sum = RGB.black
                for sy in 0..<n {
                    for sx in 0..<n {
                        let p = Point((Float(x * n + sx) + 0.5) * step, (Float(y * n + sy) + 0.5) * step)
                        sum += scene.color(at: p)
                    }
                }
                let base = (y * size + x) * 3
                picture.pixels[base] = quantize(sum.r * weight)
                picture.pixels[base + 1] = quantize(sum.g * weight)
                picture.pixels[base + 2] = quantize(sum.b * weight)
            }
        }
        return picture
    }

    @inline(__always) private static func quantize(_ v: Float) -> UInt8 {
        UInt8(clamp01(v.isFinite ? v : 0) * 255 + 0.5)
    }
}

/// Slots that parallel workers fill, each its own index, behind a lock.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Image?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ picture: Image, at index: Int) {
        lock.lock()
        slots[index] = picture
        lock.unlock()
    }

    func collected() -> [Image] { slots.compactMap { $0 } }
}
