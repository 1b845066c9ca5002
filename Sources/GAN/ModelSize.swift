import Foundation

extension ModelConfig {
    /// An estimate of the memory (address space) a training run of this model takes, worked out without
    /// building anything: the bytes a run holds per weight of G (`minimumGeneratorWeights`), measured at
    /// 32 pixels, plus the process's own (runtime, threads, BLAS buffers: a run of a tiny model needs
    /// 500 to 800 MB of address space). dcgan and resize about 48 bytes a weight (width 128: 400 MB
    /// resident): the weights, their gradients, Adam's two moments, the average and a D about as large.
    /// fastgan and projected about 200 (width 64: 1.2 GB, width 256: 12.9 GB): D, with its decoders, is
    /// several times G. An estimate, so a run near the bound may still fail; far past it, it cannot work.
    public var estimatedTrainingBytes: Int {
        return minimumGeneratorWeights * architecture.descriptor.trainingBytesPerWeight + (768 << 20)
    }

    /// Throws `ModelConfigError.invalidConfig` when the estimate passes `memory` (what this process may
    /// use, by default): `--width 4096` would otherwise be found out by an allocation of 38 GB that aborts.
    public func requireTrainableIn(memory: Int = availableMemory) throws {
        guard estimatedTrainingBytes <= memory else {
            throw ModelConfigError.invalidConfig(
                "width \(width) and z-dim \(zDim) at \(resolution)x\(resolution) need about "
                + "\(estimatedTrainingBytes >> 20) MB to train, more than the \(memory >> 20) MB this process may use")
        }
    }

    /// The machine's memory, or less under an address-space limit (`ulimit -v`).
    public static var availableMemory: Int {
        var limit = rlimit()
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else {
            return physical
        }
        return min(physical, Int(clamping: limit.rlim_cur))
    }
}
