-- wrk script: POST /uploads with one 4 KiB text file per request, each with distinct content.
-- Used by Benchmarks/serve-load.sh.
local boundary = "----IntakeLoadBoundary7MA4YWxkTrZu0gW"
local counter = 0
local filler = string.rep("knowledge base text ", 205):sub(1, 4096 - 24)

wrk.method = "POST"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary

request = function()
    counter = counter + 1
    local content = string.format("%023d\n", counter) .. filler
    local body = "--" .. boundary .. "\r\n"
        .. "Content-Disposition: form-data; name=\"doc\"; filename=\"load.txt\"\r\n"
        .. "Content-Type: text/plain\r\n\r\n"
        .. content .. "\r\n--" .. boundary .. "--\r\n"
    return wrk.format(nil, "/uploads", nil, body)
end

-- wrk prints "Non-2xx or 3xx responses: N" and "Socket errors: ..." only when there are any:
-- their absence means every upload was answered 201.
