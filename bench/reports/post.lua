-- wrk script: POST a distinct anonymous URL report each time.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"kind":"url","url":"http://bench%d.test/page/%d"}', math.random(1, 1000000), counter)
  return wrk.format(nil, "/api/v1/reports", nil, body)
end
