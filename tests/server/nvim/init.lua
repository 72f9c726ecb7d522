-- Headless Neovim (0.7.2 API) as a real editor client of `malhug lsp`: open a file, wait for the
-- MalHug diagnostics, ask for a hover, write what it saw as JSON, quit.
vim.cmd('filetype on')
local out = os.getenv('MALHUG_NVIM_OUT')
local file = os.getenv('MALHUG_NVIM_FILE')
local client_id = vim.lsp.start_client({
  name = 'malhug',
  cmd = { os.getenv('MALHUG_PYTHON'), '-m', 'malhug', 'lsp' },
  root_dir = os.getenv('MALHUG_NVIM_ROOT'),
  init_options = { malhug = { debounceMs = 50 } },
})
vim.cmd('edit ' .. file)
local bufnr = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(bufnr, client_id)

local function code_of(d)
  if d.code then return d.code end
  if d.user_data and d.user_data.lsp then return d.user_data.lsp.code end
  return nil
end

local ok = vim.wait(40000, function()
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if code_of(d) == 'MH710' then return true end
  end
  return false
end, 100)

local diags = {}
for _, d in ipairs(vim.diagnostic.get(bufnr)) do
  table.insert(diags, {
    code = code_of(d), lnum = d.lnum, col = d.col, end_col = d.end_col,
    severity = d.severity, message = d.message, source = d.source,
  })
end
local hover_text = ''
local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = 2, character = 40 } }
local replies = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', params, 10000)
for _, reply in pairs(replies or {}) do
  if reply.result and reply.result.contents then hover_text = reply.result.contents.value end
end
local f = io.open(out, 'w')
f:write(vim.fn.json_encode({ ok = ok, diagnostics = diags, hover = hover_text }))
f:close()
vim.lsp.stop_client(client_id)
vim.cmd('qa!')
