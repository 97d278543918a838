// wa_sim page script, media part: the attach button and its menu, the file input WhatsApp Web creates
// for each pick, the media editor (preview, caption, send) and the media block of a bubble.
// app.js calls window.WaSimMedia(ctx) once; ctx brings the settings, the DOM helpers, the popups and
// ctx.sendMedia(chat, { kind, file, caption }), which adds the bubble and uploads the file.
'use strict';
window.WaSimMedia = function (ctx) {
  const { S, CFG, el, showPopup, closePopup } = ctx;
  const LIMITS = CFG.media_limits;
  // What WhatsApp Web's inputs accept: "Photos & videos" and "Document".
  const ACCEPT = { image: 'image/*,video/mp4,video/3gpp,video/quicktime', document: '*' };
  const PDF = 'application/pdf';

  let menu = null; // { node, button } while the attach menu is open
  let editor = null; // { node, preview } while the media editor is open

  // ---------------------------------------------------------------- sizes and icons

  // "12 kB", "1.5 MB": sizes as WhatsApp shows them (powers of 1024, named kB/MB/GB).
  function formatSize(bytes) {
    const units = ['B', 'kB', 'MB', 'GB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    const shown = unit === 0 || value >= 10 ? Math.round(value) : Math.round(value * 10) / 10;
    return shown + ' ' + units[unit];
  }

  function documentIcon(mime) {
    return String(mime || '').toLowerCase() === PDF ? S.document_pdf_icon : S.document_icon;
  }

  // "PDF • 12 kB": the type (from the file name's extension) and the size.
  function documentMeta(name, size) {
    const dot = name.lastIndexOf('.');
    const type = dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toUpperCase() : 'FILE';
    return type + ' \u2022 ' + formatSize(size);
  }

  function base64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => {
        const url = String(reader.result);
        resolve(url.slice(url.indexOf(',') + 1));
      };
      reader.onerror = () => reject(reader.error || new Error('file not readable'));
      reader.readAsDataURL(file);
    });
  }

  // ---------------------------------------------------------------- attach button and menu

  // The footer's attach button (left of the composer); it opens and closes the menu.
  function attachButton(chat) {
    const button = el('button', {
      type: 'button',
      class: 'attach-button',
      'aria-label': S.attach_label,
      title: S.attach_label,
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
    }, [el('span', { 'data-icon': S.attach_icon, 'aria-hidden': 'true' })]);
    button.addEventListener('click', () => {
      if (menu && menu.button === button) closeMenu();
      else openMenu(chat, button);
    });
    return button;
  }

  function openMenu(chat, button) {
    closeMenu();
    const item = (label, icon, kind) => {
      const node = el('button', { type: 'button', role: 'menuitem', class: 'menu-item', 'aria-label': label }, [
        el('span', { 'data-icon': icon, 'aria-hidden': 'true' }),
        el('span', { class: 'menu-item-text', text: label }),
      ]);
      node.addEventListener('click', () => {
        closeMenu();
        pick(chat, kind);
      });
      return node;
    };
    const node = el('div', { role: 'menu', class: 'attach-menu' }, [
      item(S.attach_document_label, 'document-filled-refreshed', 'document'),
      item(S.attach_photos_label, 'media-filled-refreshed', 'image'),
    ]);
    const slot = chat.parentElement || document.getElementById('app');
    slot.append(node);
    button.setAttribute('aria-expanded', 'true');
    menu = { node, button };
  }

  function closeMenu() {
    if (!menu) return;
    menu.node.remove();
    menu.button.setAttribute('aria-expanded', 'false');
    menu = null;
  }

  // A click anywhere else closes the menu, as does Escape (which otherwise discards the editor).
  document.addEventListener('click', (event) => {
    if (!menu || !(event.target instanceof Node)) return;
    if (!menu.node.contains(event.target) && !menu.button.contains(event.target)) closeMenu();
  }, true);

  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    if (menu) {
      closeMenu();
    } else if (editor && !document.querySelector('[' + S.popup_attribute + '="true"]')) {
      closeEditor();
    }
  });

  // ---------------------------------------------------------------- the file input

  // As WhatsApp Web does since 2025: a new hidden input per pick, clicked to open the OS file
  // chooser; its change event brings the file.
  function pick(chat, kind) {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = ACCEPT[kind];
    input.style.display = 'none';
    input.addEventListener('change', () => {
      const file = input.files && input.files.length > 0 ? input.files[0] : null;
      input.remove();
      if (file) received(chat, kind, file);
    });
    input.addEventListener('cancel', () => { input.remove(); });
    document.body.append(input);
    input.click();
  }

  function refuse(kind, text) {
    showPopup(kind, text, [[S.popup_ok_text, closePopup]]);
  }

  function received(chat, kind, file) {
    if (!chat.isConnected) return;
    if (file.size === 0 || (kind === 'image' && !/^image\//i.test(file.type))) {
      refuse('media-unsupported', S.media_unsupported_text);
      return;
    }
    const limit = kind === 'image' ? LIMITS.image_max_bytes : LIMITS.document_max_bytes;
    if (file.size > limit) {
      refuse('media-too-large', S.media_too_large_text.replace('{limit}', formatSize(limit)));
      return;
    }
    openEditor(chat, kind, file);
  }

  // ---------------------------------------------------------------- media editor

  function openEditor(chat, kind, file) {
    closeEditor();
    const previewUrl = kind === 'image' ? URL.createObjectURL(file) : null;
    const preview = kind === 'image'
      ? el('img', { class: 'media-preview-image', src: previewUrl, alt: file.name })
      : el('div', { class: 'media-preview-document' }, [
        el('span', { 'data-icon': documentIcon(file.type), 'aria-hidden': 'true' }),
        el('div', { class: 'media-preview-name', text: file.name }),
        el('div', { class: 'media-preview-meta', text: documentMeta(file.name, file.size) }),
      ]);
    const caption = el('div', {
      class: 'caption',
      contenteditable: 'true',
      role: 'textbox',
      'aria-label': S.caption_label,
      title: S.caption_label,
      'aria-multiline': 'true',
      spellcheck: 'true',
    });
    const send = el('div', { role: 'button', tabindex: '0', class: 'media-send', 'aria-label': S.send_label }, [
      el('span', { 'data-icon': S.media_send_icon, 'aria-hidden': 'true' }),
    ]);
    const close = el('div', { role: 'button', tabindex: '0', class: 'media-close', 'aria-label': S.media_close_label }, [
      el('span', { 'data-icon': 'x-refreshed', 'aria-hidden': 'true' }),
    ]);
    const node = el('div', { class: 'media-editor', 'data-media-kind': kind }, [
      el('div', { class: 'media-editor-header' }, [close, el('span', { class: 'media-editor-title', text: file.name })]),
      el('div', { class: 'media-editor-preview' }, [preview]),
      el('div', { class: 'media-editor-footer' }, [el('div', { class: 'caption-wrap' }, [caption]), send]),
    ]);
    const submit = () => {
      if (!editor || editor.node !== node) return;
      const typed = caption.innerText.replace(/\n+$/, '');
      closeEditor();
      ctx.sendMedia(chat, { kind, file, caption: typed.trim() ? typed : '' });
    };
    const onKey = (action) => (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        action();
      }
    };
    send.addEventListener('click', submit);
    send.addEventListener('keydown', onKey(submit));
    close.addEventListener('click', () => { if (editor && editor.node === node) closeEditor(); });
    close.addEventListener('keydown', onKey(() => { if (editor && editor.node === node) closeEditor(); }));
    caption.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        submit();
      }
    });
    // Over the conversation, outside #main: the chat stays in the DOM underneath.
    (chat.parentElement || document.getElementById('app')).append(node);
    editor = { node, previewUrl };
    caption.focus();
  }

  function closeEditor() {
    if (!editor) return;
    editor.node.remove();
    if (editor.previewUrl) URL.revokeObjectURL(editor.previewUrl);
    editor = null;
  }

  // ---------------------------------------------------------------- bubbles

  // The media part of a bubble. `file` is the File just sent; without it (a message loaded with the
  // chat) `load()` resolves to the picture's Blob from the server, or null.
  function block(media, file, load) {
    if (media.kind === 'image') {
      const img = el('img', { class: 'media-image', alt: '', draggable: 'false' });
      if (file) {
        img.src = URL.createObjectURL(file);
      } else {
        load().then((blob) => {
          if (blob) img.src = URL.createObjectURL(blob);
        });
      }
      return el('div', { class: 'media-image-wrap', 'data-media-kind': 'image' }, [img]);
    }
    return el('div', {
      class: 'media-document',
      role: 'button',
      title: 'Download "' + media.file_name + '"',
      'data-media-kind': 'document',
    }, [
      el('span', { 'data-icon': documentIcon(media.mime), 'aria-hidden': 'true' }),
      el('div', { class: 'document-text' }, [
        el('span', { class: 'document-name', dir: 'auto', title: media.file_name, text: media.file_name }),
        el('span', { class: 'document-meta', text: documentMeta(media.file_name, media.size) }),
      ]),
    ]);
  }

  // Closes the menu and discards the editor (a new chat opens, or the session ends).
  function closeAll() {
    closeMenu();
    closeEditor();
  }

  return { attachButton, block, base64, closeAll };
};
