--[[
The SOAP responder of the test server: one mod_lua handler behind every
location of tests/server/httpd.conf.in.  It answers a POST with an envelope of
the request's SOAP version (text/xml = 1.1, application/soap+xml = 1.2) that
echoes what arrived, so tests can assert the action, the content type, the
user Apache authenticated and the client certificate:

  <t:received version="1.1" action="urn:x" soapAction="&quot;urn:x&quot;"
      contentType="text/xml; charset=utf-8" method="POST" path="/basic"
      user="alice" clientCert="CN=...,O=..." bytes="312"/>
  <t:echo>the request's Body content, as escaped text</t:echo>

The path suffix picks a behaviour (see tests/server/README.md):
  /fault11 /fault12 /fault   SOAP 1.1 / 1.2 / request-version fault, HTTP 500
  /status/NNN                that HTTP status, a text/plain body, no fault
  /slow[/N]                  sleep N seconds (default 5, at most 60) first
  /big /bigchunked           20 MB envelope (Content-Length / chunked)
  /notxml                    200 with text/plain garbage
  /redirect                  302 to /anon on the same server
GET and HEAD answer 200 text/plain (readiness probes); other methods 405.
--]]

local NS11 = "http://schemas.xmlsoap.org/soap/envelope/"
local NS12 = "http://www.w3.org/2003/05/soap-envelope"
local BIG = 20 * 1024 * 1024

local function esc(s)
  s = tostring(s or "")
  return (s:gsub("[&<>\"'%c]", function(c)
    if c == "&" then return "&amp;" end
    if c == "<" then return "&lt;" end
    if c == ">" then return "&gt;" end
    if c == '"' then return "&quot;" end
    if c == "'" then return "&apos;" end
    if c == "\n" or c == "\r" or c == "\t" then return c end
    return ""
  end))
end

-- SOAP version and action from the request headers; nil version if neither.
local function soap_version(r)
  local ct = r.headers_in["Content-Type"] or ""
  local lct = ct:lower()
  local soapaction = r.headers_in["SOAPAction"]
  if lct:match("^%s*application/soap%+xml") then
    local action = ct:match('[Aa][Cc][Tt][Ii][Oo][Nn]%s*=%s*"([^"]*)"')
        or ct:match("[Aa][Cc][Tt][Ii][Oo][Nn]%s*=%s*([^;%s]+)") or ""
    return "1.2", action, soapaction, ct
  end
  if lct:match("^%s*text/xml") then
    local action = soapaction or ""
    action = action:match('^%s*"(.*)"%s*$') or action
    return "1.1", action, soapaction, ct
  end
  return nil, "", soapaction, ct
end

-- The text between <...Body ...> and </...Body>, or "" if there is none.
local function body_content(body)
  local _, open_end = body:find("<[%w_%.%-]*:?Body[^>]*>")
  if not open_end then return "" end
  local close_start = nil
  local pos = open_end + 1
  while true do
    local s = body:find("</[%w_%.%-]*:?Body%s*>", pos)
    if not s then break end
    close_start = s
    pos = s + 1
  end
  if not close_start then return "" end
  return body:sub(open_end + 1, close_start - 1)
end

local function received(r, info)
  return string.format('<t:received version="%s" action="%s" soapAction="%s" contentType="%s" ' ..
      'method="%s" path="%s" user="%s" clientCert="%s" bytes="%d"/>',
      esc(info.version or ""), esc(info.action), esc(info.soapaction or ""), esc(info.ct),
      esc(r.method), esc(r.uri), esc(r.user or ""), esc(info.dn or ""), info.bytes)
end

local function envelope(version, inner)
  if version == "1.2" then
    return '<?xml version="1.0" encoding="utf-8"?>\n' ..
        '<env:Envelope xmlns:env="' .. NS12 .. '" xmlns:t="urn:ssovault:test">' ..
        '<env:Body>' .. inner .. '</env:Body></env:Envelope>\n',
        "application/soap+xml; charset=utf-8"
  end
  return '<?xml version="1.0" encoding="utf-8"?>\n' ..
      '<soap:Envelope xmlns:soap="' .. NS11 .. '" xmlns:t="urn:ssovault:test">' ..
      '<soap:Body>' .. inner .. '</soap:Body></soap:Envelope>\n',
      "text/xml; charset=utf-8"
end

local function fault(version, rec, why)
  if version == "1.2" then
    return '<env:Fault><env:Code><env:Value>env:Receiver</env:Value>' ..
        '<env:Subcode><env:Value>t:TestFault</env:Value></env:Subcode></env:Code>' ..
        '<env:Reason><env:Text xml:lang="en">' .. esc(why) .. '</env:Text></env:Reason>' ..
        '<env:Detail>' .. rec .. '</env:Detail></env:Fault>'
  end
  return '<soap:Fault><faultcode>soap:Server</faultcode>' ..
      '<faultstring>' .. esc(why) .. '</faultstring>' ..
      '<detail>' .. rec .. '</detail></soap:Fault>'
end

local function reply(r, status, ctype, text)
  r.status = status
  r.content_type = ctype
  r.headers_out["Content-Length"] = tostring(#text)
  if r.method ~= "HEAD" then r:puts(text) end
  return apache2.OK
end

local function big(r, version, rec, chunked)
  local head, ctype = envelope(version, '<t:BigResponse>' .. rec .. '<t:pad>@PAD@</t:pad></t:BigResponse>')
  local pre, post = head:match("^(.*)@PAD@(.*)$")
  local chunk = string.rep("x", 65536)
  r.status = 200
  r.content_type = ctype
  if not chunked then
    r.headers_out["Content-Length"] = tostring(#pre + BIG + #post)
  end
  r:puts(pre)
  if chunked then r:flush() end
  for _ = 1, BIG / #chunk do
    r:write(chunk)
    if chunked then r:flush() end
  end
  r:puts(post)
  return apache2.OK
end

function handle(r)
  local uri = r.uri
  if r.method == "GET" or r.method == "HEAD" then
    return reply(r, 200, "text/plain", "ssovault test SOAP endpoint\n")
  end
  if r.method ~= "POST" then
    r.headers_out["Allow"] = "GET, HEAD, POST"
    return reply(r, 405, "text/plain", "method not allowed\n")
  end

  local body = r:requestbody() or ""
  -- for the access log's last field: which message this was
  r.notes["body_sha1"] = r:sha1(body)
  local version, action, soapaction, ct = soap_version(r)
  local dn = ""
  if r.is_https then dn = r:ssl_var_lookup("SSL_CLIENT_S_DN") or "" end
  local rec = received(r, { version = version, action = action, soapaction = soapaction,
      ct = ct, dn = dn, bytes = #body })

  if uri:match("/redirect$") then
    local scheme = r.is_https and "https" or "http"
    r.headers_out["Location"] = string.format("%s://%s:%d/anon", scheme, r.hostname, r.port)
    return reply(r, 302, "text/plain", "moved to /anon\n")
  end
  if uri:match("/notxml$") then
    return reply(r, 200, "text/plain", "this is not XML <<< &&& >>> garbage ]]>\n")
  end
  local code = uri:match("/status/(%d%d%d)$")
  if code then
    code = tonumber(code)
    if code < 200 or code > 599 or code == 204 or code == 304 then
      return reply(r, 400, "text/plain", "status must be 200-599 (not 204 or 304)\n")
    end
    return reply(r, code, "text/plain", string.format("status %d as requested\n", code))
  end
  local fv = uri:match("/fault(1[12])$")
  if fv then
    fv = fv:sub(1, 1) .. "." .. fv:sub(2)
    local text, ctype = envelope(fv, fault(fv, rec, "Test fault from " .. uri:match("/fault1[12]$")))
    return reply(r, 500, ctype, text)
  end

  if not version then
    return reply(r, 415, "text/plain",
        "unsupported Content-Type; send text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)\n")
  end
  if uri:match("/fault$") then
    local text, ctype = envelope(version, fault(version, rec, "Test fault from /fault"))
    return reply(r, 500, ctype, text)
  end
  local secs = uri:match("/slow/(%d+)$")
  if secs or uri:match("/slow$") then
    secs = math.min(tonumber(secs or "5"), 60)
    r.usleep(secs * 1000000)
  end
  if uri:match("/big$") then return big(r, version, rec, false) end
  if uri:match("/bigchunked$") then return big(r, version, rec, true) end

  local text, ctype = envelope(version, '<t:EchoResponse>' .. rec ..
      '<t:echo>' .. esc(body_content(body)) .. '</t:echo></t:EchoResponse>')
  return reply(r, 200, ctype, text)
end
