import Foundation

/// Reads mono samples at `SoundAnalyser.sampleRate` as they come and measures, for each video frame at
/// `fps`, how loud it is, how much new sound starts in it and how bright it sounds. Keeps a window of
/// samples and a few numbers per frame, never the sound itself, so an hour costs what a minute does in
/// memory, give or take the per-frame numbers.
///
/// Loudness is the root mean square of the frame's own samples. The spectrum comes from Hann-windowed
/// blocks of `windowSize` samples every `hop` samples, all inside the sound (its first and last half
/// block are no block's centre: neither the sound's start from nothing nor its end counts as an
/// onset, and the first block only sets where the second's growth is measured from): onset strength is spectral flux, the mean over frequency bands a third of an octave wide of
/// how much each band's log-compressed magnitude grew since the previous block (so a new note or a drum
/// hit counts, a note dying away does not; in bands rather than single bins, because the flux of noise,
/// spread over many bins, then averages out where a tone's start, in one band, does not); a frame keeps
/// its strongest block's flux. The centroid is the magnitude-weighted mean frequency, averaged over the
/// frame's blocks by their energy.
public final class SoundAnalyser {
    /// Analysis rate: everything up to 11 kHz, where onsets and brightness live, at half the work of 44.1 kHz.
    public static let sampleRate = 22050
    /// 46 ms blocks every 11.6 ms: fine enough in time for a video frame, in frequency for low tones.
    public static let windowSize = 1024
    public static let hop = 256
    /// log(1 + compression x magnitude), magnitudes scaled so a full-scale sine peaks at 1.
    static let compression: Float = 100
    /// The first bin of each flux band, and one past the last band: single bins up to 40 Hz (the DC bin
    /// left out), then a third of an octave each, at least one bin wide.
    static let bandStarts: [Int] = {
        let binWidth = Double(sampleRate) / Double(windowSize)
        var starts = [1], frequency = 40.0
        while true {
            let bin = Int((frequency / binWidth).rounded())
            if bin >= windowSize / 2 { break }
            if bin > starts.last! { starts.append(bin) }
            frequency *= pow(2, 1.0 / 3)
        }
        return starts + [windowSize / 2 + 1]
    }()

    public let fps: Double
    /// Samples read so far.
    public private(set) var sampleCount = 0

    private let fft = RealFFT(size: SoundAnalyser.windowSize)
    private let window: [Float]
    private let magnitudeScale: Float
    /// Samples from `bufferStart` on, waiting for their blocks.
    private var buffer: [Float] = []
    private var bufferStart = 0
    private var magnitudes: [Float] = []
    /// The previous block's compressed band magnitudes; nil before the first block.
    private var previousCompressed: [Float]?
    private var windowed: [Float]
    private var nextHopCentre = SoundAnalyser.windowSize / 2

    private var squares: [Double] = []
    private var counts: [Int32] = []
    private var flux: [Float] = []
    private var centroidSum: [Float] = []
    private var energy: [Float] = []
    /// The frame the next sample belongs to, and the first sample of the frame after it.
    private var currentFrame = 0
    private var nextFrameStart = 0

    public init(fps: Double) {
        precondition(fps > 0)
        self.fps = fps
        let n = Self.windowSize
        window = (0..<n).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n))) }
        magnitudeScale = 2 / window.reduce(0, +)
        windowed = [Float](repeating: 0, count: n)
        nextFrameStart = firstSample(ofFrame: 1)
    }

    /// The samples to read for `frames` frames: their own, and half a block after, for their last blocks.
    public func samplesNeeded(forFrames frames: Int) -> Int {
        firstSample(ofFrame: frames) + Self.windowSize / 2
    }

    /// Takes the next samples.
    public func add(_ samples: [Float]) {
        var index = 0
        while index < samples.count {
            while sampleCount >= nextFrameStart {
                currentFrame += 1
                nextFrameStart = firstSample(ofFrame: currentFrame + 1)
            }
            grow(to: currentFrame + 1)
            let end = index + min(samples.count - index, nextFrameStart - sampleCount)
            var sum = 0.0
            for i in index..<end { sum += Double(samples[i]) * Double(samples[i]) }
            squares[currentFrame] += sum
            counts[currentFrame] += Int32(end - index)
            sampleCount += end - index
            index = end
        }
        buffer += samples
        analyseBlocks()
    }

    /// The features of `frames` frames (nil: as many as the sound lasts, at least one); frames after the
    /// end of the sound are silent.
    public func finish(frames: Int? = nil) -> SoundFeatures {
        let count = frames ?? max(1, Int((Double(sampleCount) * fps / Double(Self.sampleRate)).rounded()))
        grow(to: count)
        let levels = (0..<count).map { frame -> Float in
            guard counts[frame] > 0, squares[frame] > 0 else { return SoundFeatures.silence }
            return max(SoundFeatures.silence, Float(10 * log10(squares[frame] / Double(counts[frame]))))
        }
        let centroids = (0..<count).map { energy[$0] > 0 ? centroidSum[$0] / energy[$0] : 0 }
        return SoundFeatures(fps: fps, duration: Double(sampleCount) / Double(Self.sampleRate),
                             loudness: levels, flux: Array(flux[0..<count]), centroid: centroids)
    }

    private func firstSample(ofFrame frame: Int) -> Int {
        Int((Double(frame) * Double(Self.sampleRate) / fps).rounded(.up))
    }

    private func frame(ofSample sample: Int) -> Int {
        Int((Double(sample) * fps / Double(Self.sampleRate)).rounded(.down))
    }

    private func grow(to count: Int) {
        guard squares.count < count else { return }
        let extra = count - squares.count
        squares += repeatElement(0, count: extra)
        counts += repeatElement(0, count: extra)
        flux += repeatElement(0, count: extra)
        centroidSum += repeatElement(0, count: extra)
        energy += repeatElement(0, count: extra)
    }

    /// Analyses every block whose samples have all been read.
    private func analyseBlocks() {
        let half = Self.windowSize / 2
        while nextHopCentre + half <= bufferStart + buffer.count {
            let offset = nextHopCentre - half - bufferStart
            analyseBlock(startingAt: offset, centre: nextHopCentre)
            nextHopCentre += Self.hop
        }
        let used = nextHopCentre - half - bufferStart
        if used > 1 << 14 {
            buffer.removeFirst(used)
            bufferStart += used
        }
    }

    private func analyseBlock(startingAt offset: Int, centre: Int) {
        let n = Self.windowSize
        for i in 0..<n { windowed[i] = buffer[offset + i] * window[i] }
        windowed.withUnsafeBufferPointer { fft.magnitudes(of: $0, into: &magnitudes) }
        var weightedFrequency: Float = 0, magnitudeSum: Float = 0, power: Float = 0
        let binWidth = Float(Self.sampleRate) / Float(n)
        for k in magnitudes.indices {
            let magnitude = magnitudes[k] * magnitudeScale
            magnitudes[k] = magnitude
            weightedFrequency += Float(k) * binWidth * magnitude
            magnitudeSum += magnitude
            power += magnitude * magnitude
        }
        let bands = Self.bandStarts
        let compressed = (0..<(bands.count - 1)).map { band -> Float in
            var sum: Float = 0
            for k in bands[band]..<bands[band + 1] { sum += magnitudes[k] }
            return log1p(Self.compression * sum / Float(bands[band + 1] - bands[band]))
        }
        let growth = previousCompressed.map { zip(compressed, $0).reduce(0) { $0 + max(0, $1.0 - $1.1) } } ?? 0
        previousCompressed = compressed
        // The growth happened between the previous block's centre and this one's: half a hop back, on average.
        let frame = self.frame(ofSample: centre + Self.hop / 2)
        grow(to: frame + 1)
        flux[frame] = max(flux[frame], growth / Float(bands.count - 1))
        if magnitudeSum > 0 {
            centroidSum[frame] += power * weightedFrequency / magnitudeSum
            energy[frame] += power
        }
    }
}
