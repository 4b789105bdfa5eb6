import BouncerBase
/// Reads a whole archive once: lists and hashes every entry, screens each as
/// `bouncer unpack` would (reporting rather than stopping), and runs the
/// wheel RECORD or npm package checks when the archive is one of those.
/// Limits still stop the read: a bomb is not inspected to the end.
public enum ArchiveInspector {
    public enum Kind: String, Sendable, CaseIterable {
        /// Wheel for `.whl`, npm for `.tgz` holding `<top>/package.json`, else plain.
        case auto, plain, wheel, npm
    }

    public struct Options: Sendable {
        public var kind: Kind = .auto
        public var expectName: String?
        public var expectVersion: String?
        /// Report names that collide when case is ignored (as `unpack --refuse-case-collisions` refuses them).
        public var refuseCaseCollisions = false
        public init(kind: Kind = .auto, expectName: String? = nil, expectVersion: String? = nil, refuseCaseCollisions: Bool = false) {
            self.kind = kind
            self.expectName = expectName
            self.expectVersion = expectVersion
            self.refuseCaseCollisions = refuseCaseCollisions
        }
    }

    /// Small metadata files kept in memory for the checks; larger is a problem.
    static let metadataCap = 16 << 20

    public static func inspect(_ reader: ArchiveReader, options: Options = Options()) throws(ArchiveError) -> InspectionReport {
        let lowerName = reader.name.lowercased()
        let wheel = options.kind == .wheel || (options.kind == .auto && lowerName.hasSuffix(".whl"))
        let algorithms: [HashAlgorithm] = wheel ? [.sha256, .sha384, .sha512] : [.sha256]
        var screen = EntryScreen(limits: reader.limits, refuseCaseCollisions: options.refuseCaseCollisions)
        var entries: [InspectionReport.Entry] = []
        var problems: [(ArchiveError, String)] = []
        var files: [String: WheelRecordCheck.FileFacts] = [:]
        var records: [String: [UInt8]] = [:]
        var manifests: [String: [UInt8]] = [:]
        var entryPoints: [String: [UInt8]] = [:]
        var metadata: [String: [UInt8]] = [:]
        var shrinkwraps: [String: [UInt8]] = [:]
        var topLevel: [String] = []
        var gypFolders: Set<String> = []
        var dotBins: [String] = []

        while let entry = try reader.next() {
            var admitted: EntryScreen.Admitted? = nil
            do {
                admitted = try screen.admit(entry)
            } catch {
                problems.append((error, entry.path))
            }
            var record = InspectionReport.Entry(path: entry.path, type: entry.kind, size: nil, mode: entry.octalMode,
                                                sha256: nil, linkTarget: entry.linkTarget)
            if let first = admitted?.components.first, topLevel.last != first { topLevel.append(first) }
            // A binding.gyp of any kind: a symlink or hard link to a file is one to npm's stat and yarn's readdir.
            if let admitted, admitted.components.last == "binding.gyp", NpmPackageCheck.isPackageFolder(admitted.components.dropLast()) {
                gypFolders.insert(admitted.components.dropLast().joined(separator: "/"))
            }
            if let admitted, entry.kind != .directory, NpmPackageCheck.isInDotBin(admitted.components) { dotBins.append(admitted.path) }
            if entry.kind == .file {
                let wanted = admitted.flatMap { metadataRole($0.components) }
                let hasher = MultiHasher(algorithms)
                var kept: [UInt8] = []
                var overflow = false
                try reader.readContiguous { block in
                    hasher.update(block)
                    if wanted != nil && !overflow {
                        if kept.count + block.count > metadataCap { overflow = true } else { kept.append(contentsOf: block) }
                    }
                }
                let digests = hasher.finalize()
                record.size = hasher.byteCount
                record.sha256 = digests[.sha256]?.hex
                if let admitted {
                    files[admitted.path] = .init(digests: digests, size: hasher.byteCount, entry: entry.path)
                    switch wanted {
                    case _ where overflow:
                        problems.append((.unsafePath(entry: entry.path, reason: "metadata file larger than \(metadataCap) bytes"), entry.path))
                    case .record?: records[admitted.path] = kept
                    case .manifest?: manifests[admitted.path] = kept
                    case .entryPoints?: entryPoints[admitted.path] = kept
                    case .metadata?: metadata[admitted.path] = kept
                    case .shrinkwrap?: shrinkwraps[admitted.path] = kept
                    case nil: break
                    }
                }
            }
            entries.append(record)
        }

        var report = InspectionReport(archive: reader.name, format: reader.formatName,
                                      compression: reader.filters.isEmpty ? "none" : reader.filters.joined(separator: "+"), totalBytes: reader.totalBytes)
        report.entries = entries
        for (error, entry) in problems { report.add(error, entry: entry) }
        if wheel {
            if reader.container != .zip {
                report.add(code: "wheel-not-zip", entry: nil, "a wheel must be a zip archive, this is \(reader.formatName)")
            }
            // pip writes every entry whose name does not end in `/` as a file: one libarchive makes a
            // symlink (or anything but a file or folder) would be inspected as something it is not.
            for entry in entries where ![.file, .directory].contains(entry.type) {
                report.add(code: "wheel-not-a-file", entry: entry.path, "a \(entry.type.rawValue) in a wheel, which pip installs as a file of other content than Bouncer inspects")
            }
            // One dist-info folder, as pip and uv require: with two, which METADATA counts is the installer's pick.
            let distInfos = Set(topLevel.filter { $0.lowercased().hasSuffix(".dist-info") })
            if distInfos.count > 1 {
                report.add(code: "wheel-dist-info", entry: nil, "more than one .dist-info folder (\(distInfos.sorted().joined(separator: ", "))), which pip and uv refuse and Bouncer cannot tell apart")
            }
            WheelRecordCheck.check(records: records, files: files, report: &report)
            WheelRecordCheck.checkIdentity(record: report.wheel?.record, expectName: options.expectName, expectVersion: options.expectVersion, report: &report)
            if let record = report.wheel?.record, let bytes = entryPoints[String(record.dropLast("RECORD".count)) + "entry_points.txt"] {
                report.wheel?.scripts = WheelEntryPoints.scriptNames(bytes)
            }
            // pip's requirements: METADATA's, else PKG-INFO's (an empty METADATA) or requires.txt's; all three are read.
            if let record = report.wheel?.record {
                let folder = String(record.dropLast("RECORD".count))
                var references: [String] = []
                for file in ["METADATA", "PKG-INFO"] { references += metadata[folder + file].map(WheelMetadata.directReferences) ?? [] }
                references += (metadata[folder + "requires.txt"].map(WheelMetadata.eggRequirements) ?? []).filter(WheelMetadata.isDirectReference)
                if !references.isEmpty { report.wheel?.directReferences = references }
                // METADATA's Name is the distribution pip installs and lists; a wheel whose folder says
                // another would be pinned and judged as one package and installed as another (red team).
                let distribution = String(folder.dropLast(".dist-info/".count).prefix { $0 != "-" })
                if let stated = metadata[folder + "METADATA"].flatMap({ WheelMetadata.values(of: "name", in: $0).first }),
                   PythonPackageName.normalised(stated) != PythonPackageName.normalised(distribution) {
                    report.add(code: "wheel-name-mismatch", entry: folder + "METADATA",
                               "\(folder)METADATA names the distribution '\(stated)', but the wheel's .dist-info folder is '\(distribution)'")
                }
            }
        }
        let npm = options.kind == .npm || (options.kind == .auto && !wheel
            && manifests.keys.contains { $0.split(separator: "/").count == 2 }
            && (lowerName.hasSuffix(".tgz") || lowerName.hasSuffix(".tar.gz")))
        if npm {
            if let problem = reader.npmOnlyProblems.first { throw problem }
            // formats.md §12.2: gzip'd tar and nothing else, as npm itself reads it.
            if reader.container != .tar || reader.filters != ["gzip"] {
                report.add(code: "npm-not-tgz", entry: nil, "an npm package must be a gzip'd tar, this is "
                    + "\(reader.formatName) with compression \(reader.filters.isEmpty ? "none" : reader.filters.joined(separator: "+"))")
            }
            NpmPackageCheck.check(topLevel: topLevel, manifests: manifests, shrinkwraps: shrinkwraps, gypFolders: gypFolders, dotBins: dotBins, files: Array(files.keys),
                                  expectName: options.expectName, expectVersion: options.expectVersion, report: &report)
        }
        return report
    }

    private enum MetadataRole { case record, manifest, entryPoints, metadata, shrinkwrap }

    /// `X.dist-info/RECORD`, `entry_points.txt`, `METADATA`, `PKG-INFO` and `requires.txt` one level down; an npm
    /// package's own lock (`npm-shrinkwrap.json`, `package-lock.json`), and its `package.json`, its own (`<top>/package.json`) and every
    /// bundled dependency's (`<top>/node_modules/NAME/…`, at any depth), whose
    /// install scripts npm runs too.
    private static func metadataRole(_ components: [String]) -> MetadataRole? {
        guard components.count >= 2, let last = components.last else { return nil }
        if components.count == 2 && components[0].hasSuffix(".dist-info") {
            if last == "RECORD" { return .record }
            if last == "entry_points.txt" { return .entryPoints }
            if ["METADATA", "PKG-INFO", "requires.txt"].contains(last) { return .metadata }
        }
        if last == "package.json" && NpmPackageCheck.isPackageFolder(components.dropLast()) { return .manifest }
        // A package's own lock, which npm installs the package's dependencies from.
        // (arborist reads a package's npm-shrinkwrap.json, else its package-lock.json).
        if ["npm-shrinkwrap.json", "package-lock.json"].contains(last) && components.count == 2 { return .shrinkwrap }
        return nil
    }
}
