import Foundation
import IntakeClient
import Testing

@Suite("SourceTree")
struct SourceTreeTests {
    @Test func walksFoldersRecursivelyInNameOrderAndSkipsHiddenEntries() throws {
        let tree = try FileTree()
        defer { tree.remove() }
        try tree.write("b.txt", "b")
        try tree.write("a/z.txt", "z")
        try tree.write("a/deeper/y.txt", "y")
        try tree.write(".hidden.txt", "h")
        try tree.write(".git/config", "c")
        try tree.write("a/.cache/x.txt", "x")
        let walked = SourceTree(paths: [tree.root])
        #expect(walked.files.map(\.path) == [tree.root + "/a/deeper/y.txt", tree.root + "/a/z.txt", tree.root + "/b.txt"])
        #expect(walked.files.map(\.filename) == ["y.txt", "z.txt", "b.txt"])
        #expect(walked.files.map(\.size) == [1, 1, 1])
        #expect(walked.problems.isEmpty)
    }

    @Test func skipsSymbolicLinksUnlessAskedAndEntersEachFolderOnce() throws {
        let tree = try FileTree()
        defer { tree.remove() }
        try tree.write("docs/a.txt", "a")
        try tree.write("other/b.txt", "b")
        try tree.link("docs/loop", to: "..")  // a loop back to the root
        try tree.link("docs/b-again.txt", to: "../other/b.txt")
        let plain = SourceTree(paths: [tree.root])
        #expect(plain.files.map(\.filename) == ["a.txt", "b.txt"])

        var options = SourceTree.Options()
        options.followSymlinks = true
        let followed = SourceTree(paths: [tree.root], options: options)
        // The loop ends, and the linked file is listed once, by the path that reached it first.
        #expect(followed.files.map(\.path) == [tree.root + "/docs/a.txt", tree.root + "/docs/b-again.txt"])
        #expect(followed.files[1].canonicalPath.hasSuffix("/other/b.txt"))
    }

    @Test func includeAndExcludeGlobsMatchTheNameOrThePathBelowTheFolder() throws {
        let tree = try FileTree()
        defer { tree.remove() }
        try tree.write("report.pdf", "p")
        try tree.write("notes.txt", "n")
        try tree.write("drafts/old.pdf", "o")
        try tree.write("keep/drafts.pdf", "k")
        var options = SourceTree.Options()
        options.include = ["*.pdf"]
        options.exclude = ["drafts"]
        #expect(SourceTree(paths: [tree.root], options: options).files.map(\.filename) == ["drafts.pdf", "report.pdf"])
        options.exclude = ["keep/*"]
        #expect(SourceTree(paths: [tree.root], options: options).files.map(\.filename) == ["old.pdf", "report.pdf"])
    }

    @Test func aGivenFileIsTakenAsIsAndAMissingPathIsAProblem() throws {
        let tree = try FileTree()
        defer { tree.remove() }
        let file = try tree.write(".hidden-but-named.txt", "x")
        let walked = SourceTree(paths: [file, tree.root + "/missing"])
        #expect(walked.files.map(\.path) == [file])
        #expect(walked.problems.map(\.path) == [tree.root + "/missing"])
        #expect(walked.problems.first?.message == "No such file or directory")
    }

    @Test func aFolderOfThousandsOfShortNamesIsWalkedCompletely() throws {
        // Directory records of short names are much smaller than `dirent`: reading a name must
        // not run past the end of the kernel's buffer (it crashed once, on 1,000 entries).
        let tree = try FileTree()
        defer { tree.remove() }
        for index in 0..<3000 { _ = FileManager.default.createFile(atPath: tree.root + "/\(index)", contents: Data([1])) }
        let walked = SourceTree(paths: [tree.root])
        #expect(walked.files.count == 3000)
        #expect(Set(walked.files.map(\.filename)) == Set((0..<3000).map(String.init)))
    }
}
