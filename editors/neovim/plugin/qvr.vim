" QVR commands. They act on the program under the cursor through the qvr-lsp language server
" (started for qvr buffers by require('qvr').setup()).
if exists('g:loaded_qvr')
  finish
endif
let g:loaded_qvr = 1
command! QvrRunSvi lua require('qvr').run('svi')
command! QvrRunSample lua require('qvr').run('sample')
command! QvrRunNuts lua require('qvr').run('nuts')
command! QvrCancel lua require('qvr').cancel()
command! QvrShowResult lua require('qvr').show_result()
command! QvrMigrate lua require('qvr').migrate()
