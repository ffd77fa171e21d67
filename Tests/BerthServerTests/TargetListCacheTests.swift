import HTTPTypes
import Testing

@testable import BerthServer

/// The listing cache is bounded in bytes and lets a client ask for a fresh answer.
@Suite struct TargetListCacheTests {
    func entry(bytes: Int) -> TargetListCache.Storage.Entry {
        TargetListCache.Storage.Entry(
            revision: 1, response: HTTPResponse(status: .ok), body: Array(repeating: 0x20, count: bytes))
    }

    @Test func holdsNoMoreBytesThanItsBudgetAndEvictsTheLeastRecentlyUsed() async {
        let storage = TargetListCache.Storage(byteBudget: 4 << 20)
        for page in 0..<8 { await storage.store(entry(bytes: 1 << 20), for: "page-\(page)") }
        #expect(await storage.bytes == 4 << 20)
        #expect(await storage.count == 4)
        // Pages 4…7 are left; reading page 4 makes page 5 the least recently used.
        #expect(await storage.entry("page-3") == nil)
        #expect(await storage.entry("page-4") != nil)
        await storage.store(entry(bytes: 1 << 20), for: "page-8")
        #expect(await storage.entry("page-5") == nil)
        #expect(await storage.entry("page-4") != nil)
        #expect(await storage.bytes == 4 << 20)
    }

    @Test func doesNotKeepAnAnswerLargerThanAQuarterOfItsBudget() async {
        let storage = TargetListCache.Storage(byteBudget: 4 << 20)
        await storage.store(entry(bytes: 100), for: "small")
        await storage.store(entry(bytes: (1 << 20) + 1), for: "huge")
        #expect(await storage.entry("huge") == nil)
        #expect(await storage.bytes == 100)
    }

    @Test func replacingAnEntryCountsItsBytesOnce() async {
        let storage = TargetListCache.Storage(byteBudget: 4 << 20)
        await storage.store(entry(bytes: 1000), for: "page")
        await storage.store(entry(bytes: 3000), for: "page")
        #expect(await storage.bytes == 3000)
        #expect(await storage.count == 1)
    }
}
