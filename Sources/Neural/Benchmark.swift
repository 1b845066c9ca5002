import Foundation

/// Timing helpers for the benchmark scripts (release builds, medians of several runs).
public enum Benchmark {
    /// Seconds taken by `body`, from the monotonic clock.
    public static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Median seconds of `runs` calls after `warmup` untimed ones.
    public static func median(runs: Int, warmup: Int = 1, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        let times = (0..<max(1, runs)).map { _ in seconds(body) }.sorted()
        return times[times.count / 2]
    }

    /// One layer's median forward and backward time inside a model.
    public struct LayerTiming {
        public var index: Int
        public var name: String
        public var inputShape: [Int]
        public var outputShape: [Int]
        public var forwardSeconds: Double
        public var backwardSeconds: Double
        /// Multiply-adds of the forward pass (0 for layers without convolutions or linear maps).
        /// Backward does twice as many (input and weight gradients).
        public var multiplyAdds: Int
    }

    /// Times every layer of `model` on its own input (as produced by the layers before it), in training mode.
    public static func profile(_ model: Sequential, input: Tensor, runs: Int) -> [LayerTiming] {
        var x = input.copy()
        var result: [LayerTiming] = []
        for (index, layer) in model.layers.enumerated() {
            let output = layer.forward(x, training: true).copy()
            let multiplyAdds = layer.totalMultiplyAdds
            let gradient = Tensor(shape: output.shape, repeating: 0.01)
            let forward = median(runs: runs) { _ = layer.forward(x, training: true) }
            // Backward on its own, after one forward: a difference of two medians can come out negative.
            _ = layer.forward(x, training: true)
            let backward = median(runs: runs) { layer.backward(gradient) }
            result.append(LayerTiming(index: index, name: String(describing: type(of: layer)), inputShape: x.shape,
                                      outputShape: output.shape, forwardSeconds: forward, backwardSeconds: backward,
                                      multiplyAdds: multiplyAdds))
            x = output
        }
        return result
    }

    /// The ceiling the layers are measured against: median seconds of one size × size × size GEMM
    /// through the engine's GEMM (with its threading), after a warm-up.
    public static func squareGEMMSeconds(size: Int, runs: Int) -> Double {
        let a = Tensor(shape: [size, size], repeating: 0.5), b = Tensor(shape: [size, size], repeating: 0.25)
        let c = Tensor(shape: [size, size])
        return median(runs: runs) {
            gemm(m: size, n: size, k: size, a: a.data, lda: size, b: b.data, ldb: size, c: c.data, ldc: size)
        }
    }
}
