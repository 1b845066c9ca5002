// Engine benchmark (scripts/bench-engine): per-layer GFLOP/s at the reference shapes, the training
// step at R64 W64 batch 16, generator eval frames/s at 64 and 128 (batches of 1, 30 and 256), depthwise 3×3 convolution (direct kernels
// against the grouped GEMM path), and fastgan's dense 3×3 and 4×4/2 convolutions (direct kernels against im2col + GEMM). One line per figure, on stdout. `--arch=fastgan` times fastgan instead:
// its step at R64 with `train`'s defaults (width 16, batch 8, random hinge, LeCam, DiffAugment,
// reconstruction) and its generator at its default widths.
import ArgumentParser
import Foundation
import GAN
import Neural
import Perception
import ToolSupport

func gflops(_ multiplyAdds: Int, _ seconds: Double) -> String { String(format: "%.1f", 2 * Double(multiplyAdds) / seconds / 1e9) }
func resourceUsage() -> rusage {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return usage
}
func processorSeconds() -> Double {
    let usage = resourceUsage()
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
func ms(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1000) }

extension Architecture: ExpressibleByArgument {}

struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration.tool(
        "bench-engine",
        abstract: "Time the engine: layers, the training step, the generator, and the convolution kernels.",
        discussion: """
        One line per figure on stdout: the sgemm ceiling, per-layer GFLOP/s of dcgan R64 W64 (G at batch 16, \
        D at batch 32 as in the step), the training step (median of STEPS after 2 warm-up steps, with CPU \
        time per step), generator eval frames/s and CPU time per frame at 64 and 128 in batches of 1, 30 and 256, depthwise 3x3 convolutions (direct kernels against \
        the grouped GEMM path), fastgan's dense 3x3 and 4x4/2 convolutions (direct kernels against im2col + \
        GEMM), EfficientNet-Lite0 at 128x128, and the run's peak memory.

        MNEMOSYNE_GEMM_THREADING=openBLAS|engine selects the GEMM threading for the whole run; \
        MNEMOSYNE_THREADS=N caps the engine's workers (default: the cores, at most 8).

        Examples:
          bench-engine 20 --only step --arch fastgan
          bench-engine --only=direct | grep conv

        Exit status: 0 ok, 1 runtime error (Lite0's weights missing), 2 usage.
        """)

    /// The parts `--only` can choose.
    enum Part: String, CaseIterable, ExpressibleByArgument { case layers, step, generate, depthwise, direct, lite0 }

    @Argument(help: "Timed training steps (the median is shown; at least 3); layers and the generator run half as many.")
    var steps = 10

    @Option(help: "Time one part only (for peak-memory and profiler runs): layers, step, generate, depthwise, direct or lite0 (EfficientNet-Lite0 at 128x128, batch 16, weights from scripts/setup).")
    var only: Part?

    @Option(help: "dcgan (the reference shapes), resize (dcgan's shapes with the resize generator) or fastgan (its step at R64 with train's defaults and its generator; no per-layer profile).")
    var arch: Architecture = .dcgan

    @Flag(help: "Also time the step with OpenBLAS's threading against the engine's split GEMMs, A B A B.")
    var compareThreading = false

    @Option(help: ArgumentHelp("Floats of im2col columns a convolution builds at once.", valueName: "floats"))
    var columnBudget: Int?

    @Flag(help: "1x1 convolutions through im2col and one batch-wide GEMM, as before their direct path.")
    var noDirectPointwise = false

    @Flag(help: "Dense 3x3 and 4x4/2 convolutions on im2col + GEMM (the reference path), not the direct kernels.")
    var im2col = false

    func validate() throws {
        guard steps >= 3 else { throw ValidationError("STEPS must be at least 3") }
        if let columnBudget, columnBudget < 1 { throw ValidationError("--column-budget must be at least 1") }
        if arch == .fastgan && only == .layers {
            throw ValidationError("--only layers profiles a plain stack of layers, not fastgan")
        }
    }

    func run() throws {
        if noDirectPointwise { ConvolutionTuning.directPointwise = false }
        if im2col { (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2) = (false, false) }
        if let columnBudget { ConvolutionTuning.columnBudget = columnBudget }
        let architecture = arch
        let isFastGAN = architecture == .fastgan
        /// fastgan as `train` makes it at 64 pixels; dcgan (and resize) at the reference shapes of scripts/bench-vs-torch.
        let defaults = TrainingOptions(defaultsFor: architecture)
        let batch = isFastGAN ? defaults.batch : 16
        let config = isFastGAN ? ModelConfig.trainingDefault(resolution: 64, architecture: .fastgan)
            : ModelConfig(resolution: 64, width: 64, zDim: 128, architecture: architecture)
        let trainerOptions = { var options = defaults; options.batch = batch; return options }()
        if let mode = ProcessInfo.processInfo.environment["MNEMOSYNE_GEMM_THREADING"].flatMap(GEMMThreading.init(rawValue:)) {
            BLAS.threading = mode
        }
        print("column budget \(ConvolutionTuning.columnBudget) floats")
        if only == nil {
            let size = 1024
            let seconds = Benchmark.squareGEMMSeconds(size: size, runs: max(5, steps / 2))
            print("sgemm \(size)x\(size)x\(size): \(gflops(size * size * size, seconds)) GFLOP/s (the ceiling for the layers below)")
        }
        print("openblas core \(BLAS.coreName), GEMM threading \(BLAS.threading.rawValue), direct kernels \(ConvolutionTuning.directKernels), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let trainer = try GANTrainer(config: config, options: trainerOptions, seed: 1)
        var rng = RNG(seed: 2)
        let real = Tensor(shape: [batch, 3, 64, 64])
        for i in 0..<real.count { real[i] = rng.uniform() * 2 - 1 }

        // Per layer: G at batch 16, D at batch 32 (the step runs D on real and fake together).
        let latent = Tensor(shape: [batch, 128, 1, 1])
        rng.fillNormal(latent.buffer)
        /// fastgan's nets are not plain stacks of layers, which the per-layer profile walks.
        func runs(_ part: Part) -> Bool { (only == nil || only == part) && !(isFastGAN && part == .layers) }
        let layerSteps = max(3, steps / 2)
        // The plain stacks of layers among the networks (fastgan's are not; it never gets here).
        let stacks: [(String, Sequential?, Tensor)] = [("G", trainer.generator as? Sequential, latent),
            ("D", (trainer.discriminator as? DCGANDiscriminator)?.network, Tensor(shape: [2 * batch, 3, 64, 64], repeating: 0.1))]
        for (label, stack, input) in !runs(.layers) ? [] : stacks {
            guard let model = stack else {
                report("\(label) of \(architecture.rawValue) is not a plain stack of layers: no layer profile of it")
                continue
            }
            for t in Benchmark.profile(model, input: input, runs: layerSteps) {
                var line = "layer \(label).\(t.index) \(t.name) \(t.inputShape)->\(t.outputShape) fwd \(ms(t.forwardSeconds)) ms bwd \(ms(t.backwardSeconds)) ms"
                if t.multiplyAdds > 0 {
                    line += " fwd \(gflops(t.multiplyAdds, t.forwardSeconds)) GFLOP/s bwd \(gflops(2 * t.multiplyAdds, t.backwardSeconds)) GFLOP/s"
                }
                print(line)
            }
        }

        if runs(.step) {
            // The step: forward multiply-adds of G (batch N) and D (one image), counted as in the step.
            _ = trainer.generator.forward(latent, training: true)
            let gMACs = trainer.generator.totalMultiplyAdds
            _ = trainer.discriminator.forward(real, training: true)
            let dMACs = trainer.discriminator.totalMultiplyAdds
            // G forward twice, G backward (2×, no input gradient needed at the latent but counted), D on 2N fwd + bwd (3×),
            // D on N fwd + input gradient (2×); fastgan's decoders are not counted.
            let stepMACs = gMACs * (1 + 1 + 2) + dMACs * (2 * 3 + 2)
            // CPU time (all threads) per step as well: on a shared machine it shows the work apart from the waiting.
            let cpuBefore = processorSeconds()
            let stepSeconds = Benchmark.median(runs: steps, warmup: 2) { trainer.step(real: real) }
            let cpuPerStep = (processorSeconds() - cpuBefore) / Double(steps + 2)
            let label = isFastGAN ? "fastgan R64 W\(config.width) batch \(batch), \(trainerOptions.loss.rawValue), LeCam \(trainerOptions.lecam)"
                : "\(architecture == .resize ? "resize " : "")R64 W64 batch \(batch)"
            print("step \(label): median \(ms(stepSeconds)) ms of \(steps) (\(String(format: "%.1f", Double(batch) / stepSeconds)) img/s), \(gflops(stepMACs, stepSeconds)) GFLOP/s effective, cpu \(ms(cpuPerStep)) ms/step")

            // The threading choice, A B A B in one process (the machine is shared and noisy: compare ratios).
            if compareThreading {
                let chosen = BLAS.threading
                for round in 1...3 {
                    for mode in GEMMThreading.allCases {
                        BLAS.threading = mode
                        let cpu = processorSeconds()
                        let seconds = Benchmark.median(runs: steps, warmup: 1) { trainer.step(real: real) }
                        let cpuPerStep = (processorSeconds() - cpu) / Double(steps + 1)
                        print("threading round \(round) \(mode.rawValue): step median \(ms(seconds)) ms, cpu \(ms(cpuPerStep)) ms/step")
                    }
                }
                BLAS.threading = chosen
            }
        }

        // The generator in eval mode (G_ema through `generate`, as sample, walk and the coverage objective's
        // candidates run it), asked for batches of 1, 30 and 256 latents: wall frames/s (median of the samples) and
        // CPU time per frame (all threads; the figure to compare on a loaded machine). A sample draws at least 60
        // frames. The "generate … eval batch 30" line is the one scripts/bench-vs-torch reads.
        for resolution in !runs(.generate) ? [] : [64, 128] {
            let generatorConfig = isFastGAN ? ModelConfig.trainingDefault(resolution: resolution, architecture: .fastgan)
                : ModelConfig(resolution: resolution, width: 64, zDim: 128, architecture: architecture)
            let g = try GANTrainer(config: generatorConfig, seed: 3)
            let name = "\(architecture == .dcgan ? "" : "\(architecture.rawValue) ")R\(resolution) W\(generatorConfig.width)"
            for batchSize in [1, 30, 256] {
                let latents = rng.normals(batchSize * generatorConfig.zDim)
                let calls = max(1, 60 / batchSize), samples = max(3, steps / 2)
                let cpu = processorSeconds()
                let seconds = Benchmark.median(runs: samples, warmup: 1) {
                    for _ in 0..<calls { _ = g.generate(latents: latents, count: batchSize, useEMA: true) }
                }
                let cpuPerFrame = (processorSeconds() - cpu) / Double((samples + 1) * calls * batchSize)
                let framesPerSecond = Double(calls * batchSize) / seconds
                print("eval \(name) batch \(batchSize): \(String(format: "%.1f", framesPerSecond)) frames/s, cpu \(ms(cpuPerFrame)) ms/frame")
                if batchSize == 30 { print("generate \(name) eval batch 30: \(String(format: "%.1f", framesPerSecond)) frames/s") }
            }
        }

        // Depthwise 3×3 (FastGAN-class blocks), N 16, C 96, 64×64: forward + backward (input and weight gradients),
        // the direct kernels against the grouped GEMM path, A B A B.
        if runs(.depthwise) {
            let conv = Conv2d(96, 96, kernel: 3, stride: 1, padding: 1, groups: 96)
            Initialization.kaiming(slope: 0).apply(to: conv, rng: &rng)
            let x = Tensor(shape: [16, 96, 64, 64])
            rng.fillNormal(x.buffer)
            let gradient = Tensor(shape: [16, 96, 64, 64], repeating: 0.01)
            // The floor for a memory-bound pass: one parallel copy of the input (read 25 MB, write 25 MB).
            let copy = Tensor(shape: [0])
            let cpuBefore = processorSeconds()
            let copySeconds = Benchmark.median(runs: layerSteps) { copy.add(x, x) }
            let copyCPU = (processorSeconds() - cpuBefore) / Double(layerSteps + 1)
            print("depthwise input x + x (a memory-bound pass over the same tensor): \(ms(copySeconds)) ms, cpu \(ms(copyCPU)) ms")
            // CPU time (all threads) per pass as well: on a loaded machine the wall time mostly measures the waiting.
            func timed(_ body: () -> Void) -> (wall: Double, cpu: Double) {
                let cpu = processorSeconds()
                let wall = Benchmark.median(runs: layerSteps, body)
                return (wall, (processorSeconds() - cpu) / Double(layerSteps + 1))
            }
            for round in 1...2 {
                for direct in [true, false] {
                    ConvolutionTuning.directDepthwise = direct
                    let forward = timed { _ = conv.forward(x, training: true) }
                    _ = conv.forward(x, training: true)
                    let backward = timed { conv.backward(gradient) }
                    print("depthwise 3x3 N16 C96 64x64 round \(round) \(direct ? "direct" : "grouped GEMM"): fwd \(ms(forward.wall)) ms bwd \(ms(backward.wall)) ms "
                          + "total \(ms(forward.wall + backward.wall)) ms, cpu fwd \(ms(forward.cpu)) ms bwd \(ms(backward.cpu)) ms")
                }
            }
            ConvolutionTuning.directDepthwise = true
        }

        // EfficientNet-Lite0 as the projected discriminator and `score` use it: 128×128 pictures, batch 16. Forward
        // (all four maps), and forward + the input gradient of all four maps (a discriminator step's share).
        if runs(.lite0) {
            let residentBefore = resourceUsage().ru_maxrss
            let network = try EfficientNetLite0.loadDefault()
            let pictures = Tensor(shape: [16, 3, 128, 128])
            for i in 0..<pictures.count { pictures[i] = rng.uniform() * 2 - 1 }
            let gradients = network.features(pictures).map { Tensor(shape: $0.shape, repeating: 0.01) }
            func timed(_ body: () -> Void) -> (wall: Double, cpu: Double) {
                let cpu = processorSeconds()
                let wall = Benchmark.median(runs: steps, warmup: 1, body)
                return (wall, (processorSeconds() - cpu) / Double(steps + 1))
            }
            let forward = timed { _ = network.features(pictures) }
            let both = timed {
                _ = network.features(pictures)
                _ = network.inputGradient(gradients)
            }
            print("lite0 128x128 batch 16, \(Parallel.workers) workers: forward median \(ms(forward.wall)) ms cpu \(ms(forward.cpu)) ms; "
                  + "forward + input gradient median \(ms(both.wall)) ms cpu \(ms(both.cpu)) ms; "
                  + "\(String(format: "%.2f", Double(network.totalMultiplyAdds) / 1e9)) G multiply-adds forward; "
                  + "peak resident grew by \((resourceUsage().ru_maxrss - residentBefore) / 1024) MiB")
        }

        // fastgan's dense 3×3 and 4×4/2 convolutions at 64 px, width 16 (kernel, batch, in, out, input side): forward
        // and backward (input and weight gradients, each on its own), the direct kernels against im2col + GEMM, A B A B,
        // in CPU time of all threads.
        if runs(.direct) {
            let shapes = [(3, 8, 128, 128, 8), (3, 8, 64, 128, 8), (3, 8, 64, 64, 16), (3, 8, 32, 32, 32), (3, 8, 16, 32, 32),
                          (3, 8, 16, 16, 64), (3, 8, 8, 3, 64), (3, 16, 64, 64, 16), (3, 16, 128, 128, 8), (3, 8, 16, 32, 16),
                          (3, 8, 16, 16, 32), (3, 8, 8, 3, 32), (4, 16, 3, 32, 64), (4, 16, 32, 64, 32), (4, 16, 64, 128, 16)]
            print("direct kernels: \(ConvolutionTuning.directKernels)")
            let chosen = (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2)
            for (kernel, n, a, b, side) in shapes {
                let stride = kernel == 3 ? 1 : 2
                let conv = Conv2d(a, b, kernel: kernel, stride: stride, padding: 1, bias: kernel == 4)
                Initialization.kaiming(slope: 0).apply(to: conv, rng: &rng)
                let x = Tensor(shape: [n, a, side, side])
                rng.fillNormal(x.buffer)
                let gradient = Tensor(shape: [n, b, side / stride, side / stride], repeating: 0.01)
                var line = "conv \(kernel)x\(kernel)/\(stride) N\(n) \(a)->\(b) \(side)x\(side):"
                for _ in 1...2 {
                    for direct in [true, false] {
                        (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2) = (direct, direct)
                        _ = conv.forward(x, training: true)
                        conv.backward(gradient)
                        var cpu = processorSeconds()
                        _ = Benchmark.median(runs: layerSteps) { _ = conv.forward(x, training: true) }
                        let forward = (processorSeconds() - cpu) / Double(layerSteps + 1)
                        cpu = processorSeconds()
                        _ = Benchmark.median(runs: layerSteps) { _ = conv.backward(gradient, needsInputGradient: true, needsParameterGradients: false) }
                        let input = (processorSeconds() - cpu) / Double(layerSteps + 1)
                        cpu = processorSeconds()
                        _ = Benchmark.median(runs: layerSteps) { _ = conv.backward(gradient, needsInputGradient: false, needsParameterGradients: true) }
                        let weights = (processorSeconds() - cpu) / Double(layerSteps + 1)
                        line += " \(direct ? "direct" : "im2col") cpu fwd \(ms(forward)) dx \(ms(input)) dw \(ms(weights)) ms;"
                    }
                }
                print(line)
            }
            (ConvolutionTuning.direct3x3, ConvolutionTuning.direct4x4Stride2) = chosen
        }

        print("peak memory \(resourceUsage().ru_maxrss / 1024) MiB (resident, the whole run)")
    }
}

BenchEngine.runAsTool()
