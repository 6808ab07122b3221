import Foundation
import Testing

@testable import PDQ

/// Compares against Meta's C++ core itself (`pdqhash` from PyPI) on a few hundred images generated here:
/// noise, gradients, shapes, text, smooth photo-like fields, odd sizes, grey, grey+alpha, RGB and RGBA.
@Suite(
    .enabled(if: Python.hasReference, "needs python3 with pdqhash, Pillow and numpy (pip install pdqhash Pillow numpy)")
)
struct ReferenceImplementationTests {
    /// Writes each image's raw pixels (in its own channel layout) and the reference's hash and quality, computed
    /// on the RGB conversion that python-threatexchange feeds it (grey repeated, alpha dropped).
    static let generateScript = #"""
        import sys, os, json
        import numpy as np
        import pdqhash
        from PIL import Image, ImageDraw
        out = sys.argv[1]
        rng = np.random.default_rng(20261129)
        cases = []

        def add(name, a, dihedral=False):
            a = np.ascontiguousarray(np.clip(a, 0, 255).astype(np.uint8))
            if a.ndim == 2:
                channels, rgb = 1, np.stack([a] * 3, axis=-1)
            else:
                channels = a.shape[2]
                rgb = np.stack([a[..., 0]] * 3, axis=-1) if channels == 2 else a[..., :3]
            rgb = np.ascontiguousarray(rgb)
            if dihedral:
                vectors, q = pdqhash.compute_dihedral(rgb)
            else:
                v, q = pdqhash.compute(rgb)
                vectors = [v]
            hexes = ['%064x' % int(''.join(str(int(b)) for b in v), 2) for v in vectors]
            file = '%04d.raw' % len(cases)
            a.tofile(os.path.join(out, file))
            cases.append(dict(file=file, name=name, width=int(a.shape[1]), height=int(a.shape[0]),
                              channels=channels, quality=int(q), hashes=hexes))

        def grid(h, w):
            y, x = np.mgrid[0:h, 0:w].astype(np.float64)
            return y / max(h - 1, 1), x / max(w - 1, 1)

        def smooth(h, w, terms=6):
            y, x = grid(h, w)
            f = np.zeros((h, w))
            for _ in range(terms):
                fx, fy, ph = rng.uniform(0.5, 6), rng.uniform(0.5, 6), rng.uniform(0, 6.3)
                f += rng.uniform(10, 40) * np.sin(2 * np.pi * (fx * x + fy * y) + ph)
            return 128 + f

        def gradient(h, w):
            y, x = grid(h, w)
            return 255 * (rng.uniform(-1, 1) * y + rng.uniform(-1, 1) * x) % 256

        def color(h, w, fn):
            return np.stack([fn(h, w) for _ in range(3)], axis=-1)

        def shapes(h, w):
            im = Image.new('RGB', (w, h), tuple(int(c) for c in rng.integers(0, 256, 3)))
            d = ImageDraw.Draw(im)
            for _ in range(int(rng.integers(3, 12))):
                x0, x1 = sorted(rng.integers(0, w, 2)); y0, y1 = sorted(rng.integers(0, h, 2))
                fill = tuple(int(c) for c in rng.integers(0, 256, 3))
                (d.ellipse if rng.random() < 0.5 else d.rectangle)([int(x0), int(y0), int(x1), int(y1)], fill=fill)
            return np.asarray(im)

        def text(h, w):
            im = Image.new('L', (w, h), int(rng.integers(180, 256)))
            d = ImageDraw.Draw(im)
            words = ['vigil', 'hash', 'report', 'matching', 'PDQ', 'lorem', 'ipsum', 'dolor', 'sit', 'amet']
            for row in range(0, h, 12):
                d.text((int(rng.integers(0, 8)), row), ' '.join(rng.choice(words, 12)), fill=int(rng.integers(0, 80)))
            return np.asarray(im)

        sizes = [(5, 5), (5, 6), (6, 5), (7, 9), (12, 5), (16, 16), (31, 17), (40, 64), (63, 64), (64, 64), (64, 63),
                 (65, 65), (100, 37), (127, 128), (128, 129), (150, 200), (199, 301), (256, 256), (257, 130),
                 (300, 400), (333, 222), (384, 512), (60, 4000), (700, 60), (3, 3), (4, 100), (100, 4)]
        gens = [
            ('noise', lambda h, w: rng.integers(0, 256, (h, w, 3))),
            ('gradient', lambda h, w: color(h, w, gradient)),
            ('smooth', lambda h, w: color(h, w, smooth)),
            ('smooth_noisy', lambda h, w: color(h, w, smooth) + rng.normal(0, 6, (h, w, 3))),
            ('shapes', shapes),
            ('text', text),
            ('grey_noise', lambda h, w: rng.integers(0, 256, (h, w))),
            ('grey_smooth', smooth),
            ('grey_alpha', lambda h, w: np.stack([smooth(h, w), rng.integers(0, 256, (h, w))], axis=-1)),
            ('rgba', lambda h, w: np.concatenate([color(h, w, smooth), rng.integers(0, 256, (h, w, 1))], axis=-1)),
        ]
        for i, (h, w) in enumerate(sizes):
            for j, (name, gen) in enumerate(gens):
                if (i + j) % 3 == 0 or h * w <= 40000:
                    add('%s_%dx%d' % (name, w, h), gen(h, w), dihedral=(i + j) % 4 == 0)
        add('flat_200x100', np.full((100, 200, 3), 77))
        add('nearly_flat_120x90', 100 + rng.integers(0, 3, (90, 120, 3)))
        add('low_contrast_300x200', 120 + color(200, 300, smooth) / 20)
        add('stripes_2000x50', np.tile((np.arange(2000) // 7 % 2 * 255)[None, :, None], (50, 1, 3)))
        add('tall_smooth_90x3000', color(3000, 90, smooth) + rng.normal(0, 8, (3000, 90, 3)), dihedral=True)
        add('wide_noise_3000x90', rng.integers(0, 256, (90, 3000)))
        add('photo_like_1024x768', color(768, 1024, smooth) + rng.normal(0, 3, (768, 1024, 3)), dihedral=True)
        json.dump(cases, open(os.path.join(out, 'manifest.json'), 'w'))
        print(len(cases))
        """#

    @Test func generatedImagesHashExactlyAsPdqhash() throws {
        // given a few hundred generated images and pdqhash's answers for each
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Python.run(Self.generateScript, [dir.path])
        let cases = try JSONDecoder().decode(
            [RawCase].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        #expect(cases.count >= 200)
        #expect(Set(cases.map(\.channels)) == [1, 2, 3, 4])
        #expect(cases.contains { $0.quality < 50 } && cases.contains { $0.quality == 100 })
        // when hashing each with one reused hasher
        let hasher = PDQHasher()
        var mismatches: [String] = []
        for c in cases {
            let dihedral = c.hashes.count == 8
            let (result, variants) = try hasher.hash(
                rawFile: dir.appendingPathComponent(c.file), width: c.width, height: c.height,
                channels: c.channels, dihedral: dihedral)
            let got = dihedral ? variants.map(\.hex) : [result.hash.hex]
            if got != c.hashes || result.quality != c.quality {
                mismatches.append("\(c.name): quality \(result.quality) vs \(c.quality), \(got) vs \(c.hashes)")
            }
        }
        // then every hash and quality is identical
        #expect(
            mismatches.isEmpty,
            "\(mismatches.count) of \(cases.count) differ:\n\(mismatches.prefix(5).joined(separator: "\n"))")
    }
}
