import Foundation
import TensorStream
import XCTest

/// The tools as a hostile shell or file drives them (issue 14): closed and full standard streams,
/// FIFOs, huge counts, damaged checkpoints. Every case ends with 0, 1, 2 or 130 (141 only for a
/// reader that went away), promptly, and with nothing lost.
final class HostileToolTests: XCTestCase {
    /// Runs `script` in a fresh folder; `timeout` guards every command that could hang.
    func shell(_ script: String, in dir: URL) throws -> ToolResult {
        try ToolRunner.shell(script, directory: dir)
    }

    func lines(_ result: ToolResult) -> [String] {
        String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// A tiny trained model in `dir`: m.ckpt.
    func model(in dir: URL) throws {
        let made = try shell("synth ocean --n 6 --size 32 -q | train --steps 2 --width 2 --z-dim 4 --batch 2 -q -o m.ckpt",
                             in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    // 1. A message that cannot be written never fails the work.
    func testClosedOrFullStderrDoesNotStopTheWork() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 2 --size 32 -o closed.tns 2>&-; echo "closed $?"
            synth ocean --n 2 --size 32 -o full.tns 2>/dev/full; echo "full $?"
            ingest missing.png 2>&- > /dev/null; echo "error $?"
            synth ocean --n 2 --size 32 2> >(exec 0<&-) | encode -q -o piped.mp4; echo "pipe ${PIPESTATUS[0]}"
            """, in: dir)
        XCTAssertEqual(lines(result), ["closed 0", "full 0", "error 1", "pipe 0"], result.stderr)
        for name in ["closed.tns", "full.tns"] {
            XCTAssertEqual(try StreamReader(path: dir.appendingPathComponent(name).path).readAllBytes().count, 2, name)
        }
    }

    // 3, 4. Huge numbers are usage errors or stream; nothing traps or allocates up front.
    func testHugeNumbersAreBoundedOrStreamed() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try model(in: dir)
        let result = try shell("""
            walk m.ckpt --fps 1e19 -q > /dev/null 2>&1; echo "fps $?"
            walk m.ckpt --fps 1e-300 -q > /dev/null 2>&1; echo "tiny fps $?"
            walk m.ckpt --keys 1000000000 -q > /dev/null 2>&1; echo "keys $?"
            synth ocean --n 2 --size 32 -q | train --batch 1000000000 > /dev/null 2>&1; echo "batch $?"
            (ulimit -v 1500000; timeout 60 sample m.ckpt --n 1000000000 | head -c 100000 | wc -c; echo "sample ${PIPESTATUS[0]}")
            """, in: dir)
        XCTAssertEqual(lines(result), ["fps 2", "tiny fps 2", "keys 2", "batch 2", "100000", "sample 141"], result.stderr)
    }

    // 7. A closed stdin is empty input, a closed stdout refuses the output; neither hangs.
    func testClosedStandardStreamsNeitherHangNorMisdirect() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            timeout 20 encode -o x.mp4 <&- 2>err-encode; echo "encode $?"
            timeout 20 train -o m.ckpt <&- 2>err-train; echo "train $?"
            timeout 20 synth ocean --n 2 --size 32 <&- >&- 2>err-synth; echo "synth $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["encode 1", "train 1", "synth 1"], result.stderr)
        let synthError = try String(contentsOf: dir.appendingPathComponent("err-synth"), encoding: .utf8)
        XCTAssertTrue(synthError.contains("stdout"), synthError)
        let encodeError = try String(contentsOf: dir.appendingPathComponent("err-encode"), encoding: .utf8)
        XCTAssertTrue(encodeError.contains("empty input"), encodeError)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(),
                       ["err-encode", "err-synth", "err-train"])
    }

    // 8. A FIFO where a file is expected is refused at once; a tool blocked on a read ends on a signal.
    func testFIFOsAreRefusedAndASignalEndsABlockedTool() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try model(in: dir)
        let result = try shell("""
            mkfifo f.jpg f.ckpt in.tns
            timeout 20 ingest f.jpg > /dev/null 2>err-ingest; echo "ingest $?"
            timeout 20 sample f.ckpt > /dev/null 2>/dev/null; echo "sample $?"
            synth ocean --n 2 --size 32 -q | timeout 20 train --init f.ckpt > /dev/null 2>/dev/null; echo "init $?"
            train in.tns -o never.ckpt 2>/dev/null & pid=$!
            sleep 1; kill -TERM $pid; wait $pid; echo "blocked $?"
            sleep 30 | ingest - 2>/dev/null > list.tns & pid=$!
            sleep 1; kill -TERM $pid; wait $pid; echo "list $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["ingest 1", "sample 1", "init 1", "blocked 130", "list 130"], result.stderr)
        let ingestError = try String(contentsOf: dir.appendingPathComponent("err-ingest"), encoding: .utf8)
        XCTAssertTrue(ingestError.contains("not a regular file): f.jpg"), ingestError)
    }

    // 9. A failed sequence encode leaves the earlier run's frames as they were, and adds none.
    func testAFailedSequenceKeepsTheEarlierFrames() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            mkdir frames
            synth ocean --n 3 --size 32 -q | encode -q -o frames/%03d.png
            sha1sum frames/* > before
            synth plato --n 5 --size 32 -q > five.tns
            head -c $(( $(stat -c %s five.tns) - 100 )) five.tns | encode -q -o frames/%03d.png 2>/dev/null; echo "cut $?"
            sha1sum frames/* | diff - before && echo same
            ls -A frames | wc -l
            """, in: dir)
        XCTAssertEqual(lines(result), ["cut 1", "same", "3"], result.stderr)
    }

    // 10. Encode to a stdout the shell already wrote into streams after it, and the shell's next write follows.
    func testEncodeKeepsWhatTheShellWroteAroundIt() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 3 --size 32 -q > s.tns
            { echo KEEP; encode -q s.tns; echo TAIL; } > v.mp4
            head -c 5 v.mp4; tail -c 5 v.mp4
            { encode -q s.tns; echo TAIL; } > w.mp4
            tail -c 5 w.mp4
            head -c -5 w.mp4 > w2.mp4; ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 w2.mp4
            """, in: dir)
        XCTAssertEqual(lines(result), ["KEEP", "TAIL", "TAIL", "3"], result.stderr)
    }

    // 11. A periodic save that fails is a warning; the run and its final checkpoint go on.
    func testAFailedPeriodicSaveIsAWarning() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 4 --size 32 -q | train --steps 3 --width 2 --z-dim 4 --batch 2 --checkpoint /dev/full \
                --save-every 1 -o final.ckpt 2>err; echo "train $?"
            sample final.ckpt --n 1 | wc -c
            """, in: dir)
        XCTAssertEqual(lines(result).first, "train 0", result.stderr)
        XCTAssertGreaterThan(Int(lines(result).last ?? "") ?? 0, 3000)
        let errors = try String(contentsOf: dir.appendingPathComponent("err"), encoding: .utf8)
        XCTAssertTrue(errors.contains("warning: could not save step 1"), errors)
    }

    // 11. A second Ctrl-C while train writes its checkpoint to a slow stdout waits for the whole file.
    func testASecondInterruptDoesNotCutTheCheckpointShort() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        // The reader takes the checkpoint (hundreds of kilobytes, more than a pipe holds) only after both
        // interrupts, so train is blocked in the middle of writing it when the second one comes.
        let result = try shell("""
            synth ocean --n 4 --size 32 -q -o p.tns
            mkfifo pipe
            { exec 3<pipe; sleep 6; cat <&3 > out.ckpt; } & reader=$!
            train p.tns --steps 100000000 --width 8 --z-dim 16 --batch 2 -q > pipe 2>err & pid=$!
            sleep 3; kill -INT $pid; sleep 1; kill -INT $pid
            wait $pid; echo "train $?"
            wait $reader
            sample out.ckpt --n 1 | wc -c
            """, in: dir)
        XCTAssertEqual(lines(result).first, "train 130", result.stderr)
        XCTAssertGreaterThan(Int(lines(result).last ?? "") ?? 0, 3000, "the checkpoint is whole: \(result.stderr)")
    }

    // 12. Non-finite weights are refused with exit 1, not drawn as black pictures.
    func testNonFiniteWeightsAreRefused() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try model(in: dir)
        // Overwrite the first value of every G_ema tensor with NaN, keeping the file's layout.
        let result = try shell("""
            python3 - <<'PY'
            import json, struct
            data = bytearray(open('m.ckpt', 'rb').read())
            n = struct.unpack('<Q', data[:8])[0]
            header = json.loads(data[8:8 + n])
            for name, entry in header.items():
                if name.startswith('G_ema.') and entry['dtype'] == 'F32':
                    start = 8 + n + entry['data_offsets'][0]
                    data[start:start + 4] = struct.pack('<f', float('nan'))
            open('nan.ckpt', 'wb').write(data)
            PY
            sample nan.ckpt --n 1 > out.tns 2>err; echo "sample $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["sample 1"], result.stderr)
        let errors = try String(contentsOf: dir.appendingPathComponent("err"), encoding: .utf8)
        XCTAssertTrue(errors.contains("not a finite number") && errors.hasSuffix(": nan.ckpt\n"), errors)
    }

    // 14. Names that are not UTF-8 are read and written as they are; a line break is escaped in metadata.
    func testFileNamesKeepTheirBytes() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            mkdir pictures
            synth ocean --n 2 --size 32 -q | encode -q -o "pictures/$(printf 'caf\\xe9')%d.png"
            ingest pictures --size 32 -q | encode -q -o "$(printf 'all\\xe9').mp4"; echo "folder $?"
            ingest "pictures/$(printf 'caf\\xe9')1.png" --size 32 -q > /dev/null; echo "argument $?"
            ls pictures/* | ingest - --size 32 -q > /dev/null; echo "list $?"
            cp "pictures/$(printf 'caf\\xe9')1.png" "new
            line.png"
            ingest "new
            line.png" --size 32 -q | encode -q -o line.png; echo "line break $?"
            ls | od -An -c | tr -s ' ' | tr -d '\n'
            """, in: dir)
        XCTAssertEqual(Array(lines(result).prefix(4)), ["folder 0", "argument 0", "list 0", "line break 0"], result.stderr)
        XCTAssertTrue(lines(result).last?.contains("a l l 351 . m p 4") ?? false, lines(result).last ?? "")
    }

    // 15. The temporary file a killed run left is removed by the next write of the same name.
    func testAKilledRunsTemporaryIsCleanedUpNextTime() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 2 --size 32 -q -o s.tns
            sh -c 'exit 0' & wait $!; dead=$!
            touch ".s.tns.tmp-$dead-42"
            synth ocean --n 2 --size 32 -q -o s.tns
            ls -A
            """, in: dir)
        XCTAssertEqual(lines(result), ["s.tns"], result.stderr)
    }

    // 16. Messages: one line naming the file, and negative numbers are values.
    func testMessagesNameTheThingAndNegativeValuesParse() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try model(in: dir)
        let result = try shell("""
            touch afile
            synth ocean --n 2 --size 32 -q | train --steps 1 --width 2 --z-dim 4 --batch 2 --preview afile -o x.ckpt 2>err-preview; echo "preview $?"
            walk m.ckpt --latents "$PWD" --n 2 > /dev/null 2>err-latents; echo "latents $?"
            sample m.ckpt --psi -1 --n 2 | wc -c
            """, in: dir)
        XCTAssertEqual(lines(result).prefix(2), ["preview 1", "latents 1"], result.stderr)
        XCTAssertGreaterThan(Int(lines(result).last ?? "") ?? 0, 6000, "--psi -1 draws")
        let preview = try String(contentsOf: dir.appendingPathComponent("err-preview"), encoding: .utf8)
        XCTAssertEqual(preview, "train: cannot use the preview folder: Not a directory: afile\n")
        let latents = try String(contentsOf: dir.appendingPathComponent("err-latents"), encoding: .utf8)
        XCTAssertTrue(latents.hasSuffix(": \(dir.path)\n"), latents)
    }
}
