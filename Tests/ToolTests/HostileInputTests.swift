import Foundation
import TensorStream
import XCTest

/// The second round of hostile input (issue 18): each test is one of its fifteen failures, run as the
/// issue's repro runs it. Every case ends with exit 0, 1, 2 or 130, within its memory, and loses nothing.
final class HostileInputTests: XCTestCase {
    /// Runs `script` in `dir`. A tool that crashes (as they did before these fixes, under `ulimit -v`) ends
    /// at once, without Swift's backtracer, which can hang under the same limit holding the pipes open.
    func shell(_ script: String, in dir: URL) throws -> ToolResult {
        try ToolRunner.shell(script, directory: dir, environment: ["SWIFT_BACKTRACE": "enable=no"])
    }

    func lines(_ result: ToolResult) -> [String] {
        String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    func text(_ dir: URL, _ name: String) throws -> String {
        try String(decoding: Data(contentsOf: dir.appendingPathComponent(name)), as: UTF8.self)
    }

    /// The issue's set-up in `dir`: g.tns (4 pictures of 32x32), big.tns (64 of them), g.ckpt (a tiny model).
    func setUpFiles(in dir: URL) throws {
        let made = try shell("""
            synth ocean --n 4 --size 32 -q -o g.tns && synth ocean --n 64 --size 32 -q -o big.tns
            train g.tns --steps 2 --width 8 --z-dim 8 --batch 4 -q -o g.ckpt
            """, in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    /// A Python snippet writing `OUT`, a copy of checkpoint `IN` whose `__metadata__` is changed by `EDIT`
    /// (a statement on `meta`), with the header padded again.
    func editMetadata(_ input: String, _ output: String, _ edit: String) -> String {
        """
        python3 - <<'PY'
        import json, struct
        data = open('\(input)', 'rb').read()
        n = struct.unpack('<Q', data[:8])[0]
        header = json.loads(data[8:8 + n])
        meta = header['__metadata__']
        \(edit)
        text = json.dumps(header, separators=(',', ':')).encode()
        text += b' ' * (-len(text) % 8)
        open('\(output)', 'wb').write(struct.pack('<Q', len(text)) + text + data[8 + n:])
        PY
        """
    }

    // 1. A checkpoint without `config` or `training` is named as such by every tool that reads one.
    func testACheckpointMissingConfigOrTrainingIsAnErrorInEveryTool() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUpFiles(in: dir)
        for key in ["config", "training"] {
            let made = try shell(editMetadata("g.ckpt", "no-\(key).ckpt", "del meta['\(key)']"), in: dir)
            XCTAssertEqual(made.status, 0, made.stderr)
            let result = try shell("""
                c=no-\(key).ckpt
                sample $c -o s.tns 2>>err; echo "sample $?"
                walk $c --n 2 -o w.tns 2>>err; echo "walk $?"
                project $c g.tns --steps 1 -o p.tns 2>>err; echo "project $?"
                score $c g.tns --n 4 2>>err >/dev/null; echo "score $?"
                train g.tns --init $c --steps 1 -q -o i.ckpt 2>>err; echo "init $?"
                train g.tns --resume $c --steps 3 -q -o r.ckpt 2>>err; echo "resume $?"
                """, in: dir)
            XCTAssertEqual(lines(result), ["sample 1", "walk 1", "project 1", "score 1", "init 1", "resume 1"], key)
            let errors = try text(dir, "err").split(separator: "\n")
            XCTAssertEqual(errors.count, 6, "\(errors)")
            for line in errors {
                XCTAssertTrue(line.hasSuffix("(no '\(key)' in the checkpoint's metadata): no-\(key).ckpt"), String(line))
            }
            try FileManager.default.removeItem(at: dir.appendingPathComponent("err"))
        }
    }

    // 3. A path list on stdin is read as a stream: an unreadable stdin is an error, an endless one runs in
    // constant memory, and a line longer than a path is no list.
    func testIngestReadsItsPathListAsABoundedStream() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            ingest - < /tmp > /dev/null 2>err-dir; echo "directory $?"
            ingest - 0<&- > /dev/null 2>/dev/null; echo "closed $?"
            head -c 20000 /dev/zero | tr '\\0' y | ingest - > /dev/null 2>err-long; echo "long $?"
            (ulimit -v 400000; yes /x | timeout --preserve-status -s INT 3 ingest - -q -o yes.tns; echo "yes ${PIPESTATUS[1]}")
            (ulimit -v 400000; timeout --preserve-status -s INT 3 ingest - -q -o zero.tns < /dev/zero; echo "zero $?")
            ls
            """, in: dir)
        XCTAssertEqual(lines(result), ["directory 1", "closed 1", "long 1", "yes 130", "zero 130",
                                       "err-dir", "err-long"], result.stderr)
        XCTAssertEqual(try text(dir, "err-dir"), "ingest: cannot read the path list: read failed: Is a directory: stdin\n")
        XCTAssertEqual(try text(dir, "err-long"),
                       "ingest: line 1 of the path list is longer than any path (4096 bytes); expected one path a line: stdin\n")
    }

    // 4. score --n is bounded before anything is allocated; samples of a large --n are drawn in batches.
    func testScoreCountIsBounded() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUpFiles(in: dir)
        let result = try shell("""
            for n in 2147483648 9223372036854775807 100000000 4097; do
                timeout 20 score g.ckpt big.tns --n $n 2>>err >/dev/null; echo "$n $?"
            done
            synth ocean --n 4 --size 256 -q -o huge.tns
            train huge.tns --steps 1 --width 2 --z-dim 4 --batch 2 -q -o huge.ckpt
            timeout 20 score huge.ckpt huge.tns --n 257 2>>err >/dev/null; echo "pixels $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["2147483648 2", "9223372036854775807 2", "100000000 2", "4097 2", "pixels 2"],
                       result.stderr)
        let errors = try text(dir, "err")
        XCTAssertTrue(errors.contains("score: --n must be from 4 to 4096"), errors)
        XCTAssertTrue(errors.contains("score: --n 257 samples of 256x256 are too many to hold: at most 256 at that size"),
                      errors)
    }

    // 5. A hold whose frame count overflows is a usage error, as a merely too long one is.
    func testWalkHoldPastIntIsAUsageError() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUpFiles(in: dir)
        let result = try shell("""
            walk g.ckpt --hold 4611686018427387904 -o w.tns 2>err; echo "huge $?"
            walk g.ckpt --hold 2147483648 -o w.tns 2>/dev/null; echo "long $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["huge 2", "long 2"], result.stderr)
        XCTAssertTrue(try text(dir, "err").hasPrefix("walk: holding 4 keys for 4611686018427387904 frames each needs at least"))
    }

    // 13. A resumed run gets the command line's checks on the options its checkpoint records.
    func testResumeRefusesOptionsTheCommandLineRefuses() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUpFiles(in: dir)
        for (field, value) in [("emaDecay", "2"), ("emaDecay", "-1"), ("learningRate", "0"), ("learningRate", "-1")] {
            let result = try shell(editMetadata("g.ckpt", "bad.ckpt", """
                training = json.loads(meta['training']); training['\(field)'] = \(value)
                meta['training'] = json.dumps(training)
                """) + """

                train g.tns --resume bad.ckpt --steps 3 -q -o r.ckpt 2>err; echo "resume $?"
                """, in: dir)
            XCTAssertEqual(lines(result), ["resume 1"], "\(field) \(value): \(result.stderr)")
            let errors = try text(dir, "err")
            XCTAssertTrue(errors.contains("training option \(field) "), errors)
        }
    }

    // 14. No byte of a file reaches the terminal unescaped, and quoted content is cut.
    func testMessagesNeverEchoControlCharactersOrMegabytes() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUpFiles(in: dir)
        let result = try shell(editMetadata("g.ckpt", "escape.ckpt", #"meta['architecture'] = '\x1b]0;pwned\x07\x1b[2J'"#)
                               + "\n" + editMetadata("g.ckpt", "nested.ckpt", "meta['config'] = '[' * 200000 + ']' * 200000")
                               + """

            sample escape.ckpt -o s.tns 2>err-escape; echo "escape $?"
            sample nested.ckpt -o s.tns 2>err-nested; echo "nested $?"
            cp g.tns "$(printf 'bad\\033[2Jname\\x9b.png')"
            ingest "$(printf 'bad\\033[2Jname\\x9b.png')" --size 32 -o i.tns 2>err-ingest; echo "ingest $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["escape 1", "nested 1", "ingest 1"], result.stderr)
        XCTAssertEqual(try text(dir, "err-escape"),
                       #"sample: not a mnemosyne checkpoint (unknown architecture '\x1B]0;pwned\x07\x1B[2J'): escape.ckpt"# + "\n")
        let nested = try text(dir, "err-nested")
        XCTAssertLessThan(nested.utf8.count, 300, nested)
        XCTAssertTrue(nested.contains("(400000 characters)"), nested)
        let ingest = try text(dir, "err-ingest")
        XCTAssertFalse(ingest.utf8.contains(0x1B), ingest)
        XCTAssertTrue(ingest.contains(#"bad\x1B[2Jname\x9B.png"#), ingest)
    }

    // 8. A preview that cannot be written is a warning; the run goes on and its checkpoint is written.
    func testAPreviewThatCannotBeWrittenIsAWarning() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 8 --size 32 -q -o big.tns
            mkdir -p prev/step-000005.png
            train big.tns --steps 10 --width 2 --z-dim 4 --batch 2 -q --preview prev --preview-every 5 \\
                --checkpoint run.ckpt -o out.ckpt 2>err; echo "train $?"
            sample out.ckpt --n 1 | wc -c
            sample run.ckpt --n 1 | wc -c
            ls prev
            """, in: dir)
        XCTAssertEqual(lines(result), ["train 0", "3131", "3131", "step-000000.png", "step-000005.png", "step-000010.png"],
                       result.stderr)
        let errors = try text(dir, "err")
        XCTAssertTrue(errors.hasPrefix("train: warning: could not write the preview of step 5 (the run goes on): "), errors)
    }

    // 10. An interrupted project that finished no picture leaves both outputs as they were.
    func testAnInterruptedProjectionKeepsThePreviousOutputs() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUpFiles(in: dir)
        let result = try shell("""
            project g.ckpt g.tns --steps 1 -q -o lat.tns --reconstructions rec.tns
            sha1sum lat.tns rec.tns > before
            project g.ckpt big.tns --steps 100000 -q -o lat.tns --reconstructions rec.tns 2>err & pid=$!
            sleep 2; kill -INT $pid; wait $pid; echo "project $?"
            sha1sum -c --quiet before && echo same
            ls -A
            """, in: dir)
        XCTAssertEqual(lines(result), ["project 130", "same", "before", "big.tns", "err", "g.ckpt", "g.tns", "lat.tns",
                                       "rec.tns"], result.stderr)
        XCTAssertTrue(try text(dir, "err").hasSuffix("project: stopped before the first picture was projected: nothing written\n"))
    }

    // 11. Every tool refuses to write over one of its inputs, by any name, before reading anything.
    func testNoToolWritesOverItsInput() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        try setUpFiles(in: dir)
        let made = try shell("""
            cp g.ckpt s.ckpt && ln -s g.tns link.tns && ln g.tns hard.tns
            encode g.tns -q -o a.png && cp a.png b.png
            python3 -c "import struct; open('z.tns','wb').write(b'MTNS'+bytes([1,2,1,0])+struct.pack('<II',8,0))"
            sha1sum * > .before
            """, in: dir)
        XCTAssertEqual(made.status, 0, made.stderr)
        let cases = [
            "sample s.ckpt -o s.ckpt", "sample s.ckpt -o ./s.ckpt", "sample s.ckpt >> s.ckpt",
            "project g.ckpt g.tns --reconstructions g.ckpt -o l.tns", "project g.ckpt g.tns -o link.tns",
            "project g.ckpt -o hard.tns < g.tns",
            "train g.tns --steps 1 -o g.tns", "train g.tns --steps 1 --checkpoint link.tns -o t.ckpt",
            "train --steps 1 -o g.tns < hard.tns", "train g.tns --init s.ckpt --steps 1 -o s.ckpt",
            "ingest a.png -o a.png", "ingest . -o b.png", "ls a.png | ingest - -o a.png",
            "walk g.ckpt -o g.ckpt", "walk g.ckpt --latents z.tns -o z.tns",
            "encode g.tns -o g.tns --format y4m", "encode link.tns --format y4m >> g.tns",
            "score g.ckpt g.tns >> g.tns",
        ]
        let script = cases.map { "\($0) 2>>err; echo \"$?\"" }.joined(separator: "\n")
        let result = try shell(script + "\nsha1sum -c --quiet .before && echo same", in: dir)
        XCTAssertEqual(lines(result), Array(repeating: "2", count: cases.count) + ["same"], result.stderr)
        let errors = try text(dir, "err").split(separator: "\n")
        XCTAssertEqual(errors.count, cases.count, "\(errors)")
        for line in errors {
            XCTAssertTrue(line.contains(": the output is also an input and would replace it; write to another file: "), String(line))
        }
        // A continued run may be saved over the checkpoint it resumes, as the README shows.
        let resumed = try shell("train g.tns --resume s.ckpt --steps 3 -q --checkpoint s.ckpt -o s.ckpt; echo $?", in: dir)
        XCTAssertEqual(lines(resumed), ["0"], resumed.stderr)
    }

    // 7. A file name never picks a libav protocol: `pipe:0` is a file, not stdin; `subfile,...:a.mp4` is itself.
    func testFileNamesAreNotLibavURLs() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 3 --size 32 -q | encode -q -o a.gif
            synth plato --n 5 --size 32 -q | encode -q -o b.mp4
            cp a.gif 'pipe:0'
            cp a.gif 'subfile,,start,0,end,3025,,:b.mp4'
            ingest a.gif --size 32 -q -o expected.tns
            ingest 'pipe:0' --size 32 -q -o pipe.tns < b.mp4; echo "pipe $?"
            ingest 'subfile,,start,0,end,3025,,:b.mp4' --size 32 -q -o subfile.tns; echo "subfile $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["pipe 0", "subfile 0"], result.stderr)
        func records(_ name: String) throws -> [[UInt8]] {
            try StreamReader(path: dir.appendingPathComponent(name).path).readAllBytes()
        }
        XCTAssertEqual(try records("expected.tns").count, 3)
        XCTAssertEqual(try records("pipe.tns"), try records("expected.tns"))
        XCTAssertEqual(try records("subfile.tns"), try records("expected.tns"))
    }

    // 12. -o naming a FIFO gets what stdout gets when it is a pipe: a streamed (fragmented) MP4.
    func testEncodeIntoAFIFOStreams() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 4 --size 32 -q -o g.tns
            mkfifo f.mp4
            for format in mp4 webm gif; do
                cat f.mp4 > got & reader=$!
                encode g.tns -q --format $format -o f.mp4; echo "$format $?"
                wait $reader
                ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 got
            done
            """, in: dir)
        XCTAssertEqual(lines(result), ["mp4 0", "4", "webm 0", "4", "gif 0", "4"], result.stderr)
    }

    // 2. A GIF's declared screen or frames past the decode cap are refused before anything is decoded.
    func testGIFsPastTheDecodeCapAreRefusedCheaply() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            python3 - <<'PY'
            import struct
            def gif(name, width, height, frames, frame_width, frame_height):
                data = b'GIF89a' + struct.pack('<HHBBB', width, height, 0x80, 0, 0) + b'\\0\\0\\0\\xff\\xff\\xff'
                for _ in range(frames):
                    data += b'\\x21\\xf9\\x04\\x00\\x01\\x00\\x00\\x00'
                    data += b',' + struct.pack('<HHHHB', 0, 0, frame_width, frame_height, 0) + b'\\x02\\x02\\x44\\x01\\x00'
                open(name, 'wb').write(data + b';')
            gif('screen.gif', 16000, 16000, 1, 1, 1)
            gif('screen20.gif', 16000, 16000, 20, 1, 1)
            gif('frames.gif', 8000, 8000, 200, 8000, 8000)
            gif('fine.gif', 64, 48, 3, 64, 48)
            PY
            wc -c < screen.gif
            for name in screen screen20 frames; do
                (ulimit -v 1000000; timeout 20 ingest $name.gif --size 32 -o out.tns 2>err-$name; echo "$name $?")
            done
            (ulimit -v 1000000; ingest fine.gif --size 32 -q | wc -c)
            """, in: dir)
        // 9367 bytes: three pictures of 32x32, and a header naming each one's source (`fine.gif frame 1`, ...).
        XCTAssertEqual(lines(result), ["43", "screen 1", "screen20 1", "frames 1", "9367"], result.stderr)
        for (name, size) in [("screen", "16000x16000"), ("screen20", "16000x16000"), ("frames", "8000x8000")] {
            let errors = try text(dir, "err-\(name)")
            XCTAssertTrue(errors.hasPrefix("ingest: warning: image too large to decode (\(size); at most 128 MB decoded"), errors)
        }
    }

    // 9. The cap counts decoded bytes, 16-bit samples as two: a 68-byte PNG of 11585x11585 16-bit RGBA is
    // refused before its 1 GB is allocated, one by one or eight at once.
    func testPNGsPastTheDecodeCapInBytesAreRefusedCheaply() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            mkdir eight
            python3 - <<'PY'
            import struct, zlib
            def chunk(kind, data): return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
            png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 11585, 11585, 16, 6, 0, 0, 1))
            png += chunk(b'IDAT', zlib.compress(b'\\0' * 16)) + chunk(b'IEND', b'')
            for i in range(8): open(f'eight/{i}.png', 'wb').write(png)
            PY
            wc -c < eight/0.png
            (ulimit -v 1000000; ingest eight/0.png --size 32 -o out.tns 2>err-one; echo "one $?")
            (ulimit -v 1000000; ingest eight --size 32 -o out.tns 2>err-eight; echo "eight $?")
            """, in: dir)
        XCTAssertEqual(lines(result), ["68", "one 1", "eight 1"], result.stderr)
        XCTAssertTrue(try text(dir, "err-one").hasPrefix("ingest: warning: image too large to decode (11585x11585;"))
        XCTAssertTrue(try text(dir, "err-eight").hasSuffix("ingest: no usable image: all 8 files were skipped (8 too large)\n"))
    }

    // 6. A width whose model cannot fit is a usage error naming the memory, not an aborted allocation.
    func testATrainingWidthPastTheMemoryIsAUsageError() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 4 --size 32 -q -o g.tns
            train g.tns --width 4096 --z-dim 128 --steps 1 -q -o w.ckpt 2>err-4096; echo "4096 $?"
            (ulimit -v 2000000; train g.tns --width 1024 --arch dcgan --steps 1 -q -o w.ckpt 2>err-limit; echo "limit $?")
            ls
            """, in: dir)
        XCTAssertEqual(lines(result), ["4096 2", "limit 2", "err-4096", "err-limit", "g.tns"], result.stderr)
        XCTAssertTrue(try text(dir, "err-4096").hasPrefix(
            "train: --width, --z-dim: invalid model configuration: width 4096 and z-dim 128 at 32x32 need about 2445589 MB"))
        XCTAssertTrue(try text(dir, "err-limit").contains("MB to train, more than the 1953 MB this process may use"))
    }

    // Also looked at: a video frame past H.264's and VP9's highest level is refused before the encoder
    // takes gigabytes; a --checkpoint that cannot be written is an error at the start, not hours of warnings.
    func testHopelessOutputsAreRefusedAtTheStart() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            synth ocean --n 1 --size 600 -q -o big.tns
            for format in mp4 webm gif; do
                (ulimit -v 2000000; encode big.tns --scale 16 -o big.$format 2>>err; echo "$format $?")
            done
            synth ocean --n 4 --size 32 -q | train --steps 1 --checkpoint missing/run.ckpt -o /dev/null 2>>err
            echo "train $?"
            ls
            """, in: dir)
        XCTAssertEqual(lines(result), ["mp4 1", "webm 1", "gif 1", "train 1", "big.tns", "err"], result.stderr)
        let errors = try text(dir, "err").split(separator: "\n")
        XCTAssertEqual(errors.first, "encode: frames of 9600x9600 are too large for mp4 (at most 35651584 pixels, such as 8192x4352): big.tns")
        XCTAssertEqual(errors.last, "train: cannot write: No such file or directory: missing/run.ckpt")
    }

    // 15. A file name of any bytes is read by its name, U+10FF80...U+10FFFF included: in a folder, as an
    // argument, and in a NUL-separated list on stdin.
    func testFileNamesOfEveryByteAreRead() throws {
        let dir = try ToolRunner.temporaryDirectory(self)
        let result = try shell("""
            mkdir pictures
            synth ocean --n 1 --size 32 -q | encode -q -o one.png
            python3 - <<'PY'
            import shutil
            names = [b'p' + bytes([b]) + b'.png' for b in range(1, 256) if b != 0x2F]
            names += [b'x\\xf4\\x8f\\xbe\\x80.png', b'y\\xf4\\x8f\\xbf\\xbf\\xe9.png']
            for name in names: shutil.copy(b'one.png', b'pictures/' + name)
            PY
            ingest pictures --size 32 -o folder.tns 2>err-folder; echo "folder $?"
            ingest pictures/* --size 32 -o arguments.tns 2>err-arguments; echo "arguments $?"
            find pictures -type f -print0 | ingest - --size 32 -o list.tns 2>err-list; echo "list $?"
            """, in: dir)
        XCTAssertEqual(lines(result), ["folder 0", "arguments 0", "list 0"], result.stderr)
        for name in ["folder", "arguments", "list"] {
            let errors = try text(dir, "err-\(name)")
            XCTAssertEqual(try StreamReader(path: dir.appendingPathComponent("\(name).tns").path).readAllBytes().count, 256,
                           errors)
        }
    }
}
