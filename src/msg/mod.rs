//! Messages: the representation behind the 64-byte `zmq_msg_t`.
//!
//! C copies a `zmq_msg_t` bitwise and reads `zmq_msg_data` of a small message as a pointer
//! into the struct, so a `Msg` holds no pointer to itself: small bodies live inline and every
//! other pointer leads off the struct. Rust moves a `Msg` the same way (a 64-byte memcpy).
//!
//! Layout (offsets in bytes, `#[repr(C, align(8))]`, 64 in all):
//!
//! | off | size | field |
//! |----:|-----:|-------|
//! |   0 |    8 | metadata: `Arc<Metadata>` as a raw pointer, or NULL |
//! |   8 |   40 | body: inline bytes, or `{data ptr, len, content ptr}` (content NULL = constant) |
//! |  48 |    8 | group: up to 7 chars + NUL inline, or a pointer to a heap copy + NUL |
//! |  56 |    4 | routing_id |
//! |  60 |    1 | kind: 0 closed, else one of three unlikely values |
//! |  61 |    1 | flags (libzmq's values: MORE 1, COMMAND 2, ..., SHARED 128) |
//! |  62 |    1 | length of an inline body (0..=40) |
//! |  63 |    1 | length of the group (0..=255) |

mod pool;

pub(crate) use pool::{in_forked_child, watch_fork};

use crate::error::{err, ZResult};
use std::alloc::{self, Layout};
use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::mem::{align_of, offset_of, size_of, ManuallyDrop};
use std::ptr;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;

/// Largest body kept inside the struct (libzmq keeps 33).
pub(crate) const INLINE_CAP: usize = 40;
/// Longest group name.
pub(crate) const GROUP_MAX_LENGTH: usize = crate::consts::ZMQ_GROUP_MAX_LENGTH as usize;
/// Longest group kept inside the struct (the rest of its 8 bytes is the NUL).
const GROUP_INLINE_CAP: usize = 7;

/// Values of the kind byte. Zero means closed; the others are values a zeroed or stray
/// struct is unlikely to hold, so misuse is caught as EFAULT like libzmq's check().
const KIND_CLOSED: u8 = 0;
const KIND_INLINE: u8 = 0xa7;
const KIND_LARGE: u8 = 0xb3;
const KIND_CONST: u8 = 0xc5;

/// The C free function of `zmq_msg_init_data`.
pub(crate) type FreeFn = unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void);

/// A reference-counted large body, shared by clones.
struct Content {
    refs: AtomicUsize,
    data: *mut u8,
    len: usize,
    release: Release,
}

/// How a `Content`'s bytes are given back when the last reference goes.
enum Release {
    /// The bytes follow the header in the same allocation.
    Trailing,
    /// The buffer of a `Vec<u8>` with this capacity.
    Vec { cap: usize },
    /// A caller's buffer, returned through its free function.
    User { ffn: FreeFn, hint: *mut c_void },
}

/// Layout of a `Content` header followed by `extra` bytes (which start right after the
/// header: its size is a multiple of its alignment).
fn content_layout(extra: usize) -> Option<Layout> {
    let size = size_of::<Content>().checked_add(extra)?;
    Layout::from_size_align(size, align_of::<Content>()).ok()
}

/// Allocates a header for `len` bytes at `data` (or, if `data` is NULL, for `len` trailing
/// bytes, zeroed if asked). NULL when out of memory.
///
/// The C allocator directly, not Rust's global one (which is the same malloc behind two
/// calls of indirection): a large message costs one allocation and one free, often on
/// different threads, and this is the whole of its cost beyond the pipe.
fn alloc_content(data: *mut u8, len: usize, release: Release, zeroed: bool) -> *mut Content {
    let extra = if matches!(release, Release::Trailing) { len } else { 0 };
    let Some(layout) = content_layout(extra) else { return ptr::null_mut() };
    // malloc's alignment (16 on every 64-bit glibc target) covers Content's 8.
    const _: () = assert!(align_of::<Content>() <= 2 * size_of::<usize>());
    let raw = match pool_class(&release, len) {
        Some(class) => pool::alloc(class, zeroed),
        // SAFETY: plain C allocation calls with a non-zero size (the header).
        None if zeroed => unsafe { libc::calloc(1, layout.size()).cast::<u8>() },
        // SAFETY: as above.
        None => unsafe { libc::malloc(layout.size()).cast::<u8>() },
    };
    if raw.is_null() {
        return ptr::null_mut();
    }
    let c = raw as *mut Content;
    let data = if matches!(release, Release::Trailing) {
        // SAFETY: the trailing bytes start right after the header, within the allocation.
        unsafe { raw.add(size_of::<Content>()) }
    } else {
        data
    };
    // SAFETY: c is aligned for Content and points to enough writable memory.
    unsafe { c.write(Content { refs: AtomicUsize::new(1), data, len, release }) };
    c
}

// A pooled block has room for the header in front of its body.
const _: () = assert!(size_of::<Content>() <= pool::HEADROOM);

/// The pool class of a content for `len` bytes: only headers with their bytes trailing are
/// pooled (the others are small, or their bytes are someone else's).
fn pool_class(release: &Release, len: usize) -> Option<usize> {
    match release {
        Release::Trailing => pool::class_of(size_of::<Content>().checked_add(len)?),
        _ => None,
    }
}

/// Drops one reference; the last one frees the bytes (calling a user free function).
///
/// # Safety
/// `c` must be a live content this caller holds one reference to.
unsafe fn release_content(c: *mut Content) {
    // A count of 1 means ours is the only reference: nobody else can reach c, so nobody
    // can change the count any more, and the atomic decrement can be skipped (the usual
    // case: a body sent once and received). Acquire pairs with the Release decrements of
    // holders that went before us, so their reads happen before the free.
    // SAFETY: the caller's reference keeps c alive until we free it.
    if unsafe { (*c).refs.load(Ordering::Acquire) } != 1 {
        // SAFETY: as above.
        if unsafe { (*c).refs.fetch_sub(1, Ordering::Release) } != 1 {
            return;
        }
        // Pairs with the other holders' Release decrements: their reads happen before the
        // free.
        fence(Ordering::Acquire);
    }
    // SAFETY: we held the last reference, so nobody else can reach c any more.
    let Content { data, len, release, .. } = unsafe { c.read() };
    match pool_class(&release, len) {
        // SAFETY: alloc_content took c from this class, and nothing reaches it any more.
        Some(class) => unsafe { pool::free(class, c as *mut u8) },
        // SAFETY: c came from malloc/calloc in alloc_content.
        None => unsafe { libc::free(c as *mut c_void) },
    }
    match release {
        Release::Trailing => {}
        // SAFETY: data/len/cap are the parts of a Vec that from_vec leaked.
        Release::Vec { cap } => drop(unsafe { Vec::from_raw_parts(data, len, cap) }),
        // Called with no lock held, as the free function may call back into the API.
        // SAFETY: the caller of init_data promised ffn may free data with hint.
        Release::User { ffn, hint } => unsafe { ffn(data as *mut c_void, hint) },
    }
}

/// A body kept outside the struct.
#[repr(C)]
#[derive(Clone, Copy)]
struct Ext {
    data: *mut u8,
    len: usize,
    /// NULL for constant data, which is never freed.
    content: *mut Content,
}

#[repr(C)]
#[derive(Clone, Copy)]
union Body {
    inline: [u8; INLINE_CAP],
    ext: Ext,
}

#[repr(C)]
#[derive(Clone, Copy)]
union Group {
    /// NUL-terminated, for groups of up to GROUP_INLINE_CAP bytes.
    inline: [u8; 8],
    /// A leaked `Box<[u8]>` of group_len + 1 bytes, NUL-terminated.
    heap: *mut u8,
}

/// Checks at compile time that a C view `C` of a message (capi's `zmq_msg_t`) has the
/// message's size and at least its alignment, so the casts below are sound.
const fn c_view_fits<C>() {
    assert!(size_of::<C>() == size_of::<Msg>() && align_of::<C>() >= align_of::<Msg>());
}

/// A message: what a `zmq_msg_t` holds, and what pipes and sockets move by value.
#[repr(C, align(8))]
pub(crate) struct Msg {
    metadata: *const Metadata,
    body: Body,
    group: Group,
    routing_id: u32,
    kind: u8,
    flags: u8,
    inline_len: u8,
    group_len: u8,
}

const _: () = assert!(size_of::<Msg>() == 64 && align_of::<Msg>() == 8);
const _: () = assert!(offset_of!(Msg, body) == 8 && offset_of!(Msg, group) == 48);
const _: () = assert!(offset_of!(Msg, routing_id) == 56 && offset_of!(Msg, kind) == 60);
const _: () = assert!(offset_of!(Msg, group_len) == 63);

// SAFETY: a Msg owns its group and an Arc reference to Send + Sync metadata; its content is
// shared only through an atomic refcount, and libzmq's contract (zmq_msg_init_data) requires
// a user free function to be callable from any thread. Constant data is immutable.
unsafe impl Send for Msg {}

/// Flag values, libzmq's, so protocol code reads the same.
impl Msg {
    /// More frames of this message follow.
    pub(crate) const MORE: u8 = 1;
    /// A ZMTP command carried in a pipe (a DISH's JOIN/LEAVE on its way to the wire).
    pub(crate) const COMMAND: u8 = 2;
    pub(crate) const ROUTING_ID: u8 = 64;
    /// The body was shared by a copy (sticky, as libzmq's ZMQ_SHARED).
    pub(crate) const SHARED: u8 = 128;
}

impl Msg {
    /// An empty message, the state zmq_msg_init leaves.
    pub(crate) const fn new() -> Msg {
        Msg {
            metadata: ptr::null(),
            body: Body { inline: [0; INLINE_CAP] },
            group: Group { inline: [0; 8] },
            routing_id: 0,
            kind: KIND_INLINE,
            flags: 0,
            inline_len: 0,
            group_len: 0,
        }
    }

    /// What a closed zmq_msg_t holds: nothing but the flags, which zmq_msg_more may still
    /// read after zmq_msg_close (as in libzmq).
    const fn closed(flags: u8) -> Msg {
        let mut m = Msg::new();
        m.kind = KIND_CLOSED;
        m.flags = flags;
        m
    }

    fn large(data: *mut u8, len: usize, content: *mut Content) -> Msg {
        let mut m = Msg::new();
        m.kind = if content.is_null() { KIND_CONST } else { KIND_LARGE };
        m.body = Body { ext: Ext { data, len, content } };
        m
    }

    /// A message of `len` zeroed bytes; ENOMEM if they cannot be allocated.
    pub(crate) fn with_size(len: usize) -> ZResult<Msg> {
        Self::alloc(len, true)
    }

    /// zmq_msg_init_size: a body of `len` bytes for the C caller to fill through
    /// zmq_msg_data, not cleared first (libzmq does not either, and clearing 64 KiB costs
    /// more than sending it). Small bodies live in the struct and start zeroed; a large one
    /// holds whatever the caller writes, and its bytes reach Rust only after the pointer to
    /// them has been handed to C.
    pub(crate) fn for_c_to_fill(len: usize) -> ZResult<Msg> {
        Self::alloc(len, false)
    }

    fn alloc(len: usize, zeroed: bool) -> ZResult<Msg> {
        if len <= INLINE_CAP {
            let mut m = Msg::new();
            m.inline_len = len as u8;
            return Ok(m);
        }
        let c = alloc_content(ptr::null_mut(), len, Release::Trailing, zeroed);
        if c.is_null() {
            return err(libc::ENOMEM);
        }
        // SAFETY: c is a fresh content.
        Ok(Msg::large(unsafe { (*c).data }, len, c))
    }

    /// A copy of `bytes`; ENOMEM if they cannot be allocated.
    pub(crate) fn try_from_slice(bytes: &[u8]) -> ZResult<Msg> {
        let mut m = Self::alloc(bytes.len(), false)?;
        // SAFETY: the body was just allocated with exactly bytes.len() bytes, unshared.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), m.data_ptr(), bytes.len()) };
        Ok(m)
    }

    /// A copy of `bytes`; aborts like `Vec` if memory runs out.
    pub(crate) fn from_slice(bytes: &[u8]) -> Msg {
        match Self::try_from_slice(bytes) {
            Ok(m) => m,
            Err(_) => alloc::handle_alloc_error(Layout::array::<u8>(bytes.len()).unwrap()),
        }
    }

    /// A message owning `v`: small ones are copied inline, large ones keep the buffer.
    pub(crate) fn from_vec(v: Vec<u8>) -> Msg {
        if v.len() <= INLINE_CAP {
            return Msg::from_slice(&v);
        }
        let mut v = ManuallyDrop::new(v);
        let (data, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
        let c = alloc_content(data, len, Release::Vec { cap }, false);
        if c.is_null() {
            alloc::handle_alloc_error(Layout::new::<Content>());
        }
        Msg::large(data, len, c)
    }

    /// A zero-copy message over a caller's buffer, given back through `ffn(data, hint)`
    /// exactly once, on whichever thread drops the last reference. ENOMEM (and `ffn` not
    /// called) if the small header cannot be allocated.
    ///
    /// # Safety
    /// `data` must be valid for `len` bytes until `ffn` runs, and `ffn` must be callable
    /// from any thread.
    pub(crate) unsafe fn from_user_buffer(
        data: *mut u8,
        len: usize,
        ffn: FreeFn,
        hint: *mut c_void,
    ) -> ZResult<Msg> {
        let c = alloc_content(data, len, Release::User { ffn, hint }, false);
        if c.is_null() {
            return err(libc::ENOMEM);
        }
        Ok(Msg::large(data, len, c))
    }

    /// A message over constant data that is never freed (zmq_send_const, and
    /// zmq_msg_init_data without a free function).
    ///
    /// # Safety
    /// `data` must be valid for `len` bytes (or may be NULL if `len` is 0) for as long as
    /// this message or any clone of it lives.
    pub(crate) unsafe fn from_const(data: *const u8, len: usize) -> Msg {
        Msg::large(data as *mut u8, len, ptr::null_mut())
    }

    fn ext(&self) -> Ext {
        debug_assert!(self.kind == KIND_LARGE || self.kind == KIND_CONST);
        // SAFETY: the kind says the body holds an Ext.
        unsafe { self.body.ext }
    }

    /// The body.
    pub(crate) fn data(&self) -> &[u8] {
        if self.kind == KIND_INLINE {
            // SAFETY: every bit pattern is a valid byte array.
            return unsafe { &self.body.inline[..self.inline_len as usize] };
        }
        if self.kind == KIND_CLOSED {
            return &[];
        }
        let e = self.ext();
        if e.len == 0 {
            return &[];
        }
        // SAFETY: a large or constant body's data is valid for len bytes while we live.
        unsafe { std::slice::from_raw_parts(e.data, e.len) }
    }

    /// Drops the first `n` bytes of the body (all of it if shorter). A large or constant
    /// body is re-pointed, not copied; its allocation is freed whole as before.
    pub(crate) fn trim_front(&mut self, n: usize) {
        let n = n.min(self.len());
        if n == 0 {
            return;
        }
        match self.kind {
            KIND_INLINE => {
                let len = self.inline_len as usize;
                // SAFETY: every bit pattern is a valid byte array; n <= len <= INLINE_CAP.
                unsafe { self.body.inline.copy_within(n..len, 0) };
                self.inline_len -= n as u8;
            }
            KIND_LARGE | KIND_CONST => {
                let e = self.ext();
                // SAFETY: n <= len, so data + n stays within (or one past) the body; the
                // content pointer, which frees the allocation, is unchanged.
                self.body.ext = Ext { data: unsafe { e.data.add(n) }, len: e.len - n, ..e };
            }
            _ => {}
        }
    }

    /// The body, writable. A body shared with a clone, or constant data, is first copied,
    /// so no other holder sees the change (`zmq_msg_data` in C writes in place instead, as
    /// libzmq lets it). Aborts like `Vec` if that copy cannot be allocated.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        let unique = match self.kind {
            // SAFETY: a large body's content is live; Acquire orders us after other
            // holders' releases (as Arc::get_mut).
            KIND_LARGE => unsafe { (*self.ext().content).refs.load(Ordering::Acquire) == 1 },
            KIND_CONST => false,
            _ => true,
        };
        if !unique {
            let copy = Msg::from_slice(self.data());
            self.release_body();
            self.kind = copy.kind;
            self.body = copy.body;
            self.inline_len = copy.inline_len;
            self.flags &= !Msg::SHARED;
            // The body now belongs to self; the rest of `copy` is empty.
            std::mem::forget(copy);
        }
        let len = self.len();
        if len == 0 {
            return &mut [];
        }
        // SAFETY: the body is valid for len bytes and, by the check above, ours alone.
        unsafe { std::slice::from_raw_parts_mut(self.data_ptr(), len) }
    }

    /// The address of the body, as zmq_msg_data returns it: inside the struct for small
    /// bodies, and writable in place even when shared (the C caller's responsibility).
    pub(crate) fn data_ptr(&mut self) -> *mut u8 {
        match self.kind {
            // Taking the address of a union field reads nothing, so needs no unsafe.
            KIND_INLINE | KIND_CLOSED => ptr::addr_of_mut!(self.body.inline) as *mut u8,
            _ => self.ext().data,
        }
    }

    /// Length of the body in bytes.
    pub(crate) fn len(&self) -> usize {
        match self.kind {
            KIND_INLINE => self.inline_len as usize,
            KIND_CLOSED => 0,
            _ => self.ext().len,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// More frames of this message follow.
    pub(crate) fn more(&self) -> bool {
        self.flags & Msg::MORE != 0
    }

    pub(crate) fn set_more(&mut self, more: bool) {
        if more {
            self.flags |= Msg::MORE;
        } else {
            self.flags &= !Msg::MORE;
        }
    }

    pub(crate) fn flags(&self) -> u8 {
        self.flags
    }

    /// Sets the given flag bits.
    pub(crate) fn set_flags(&mut self, flags: u8) {
        self.flags |= flags;
    }

    /// Clears the given flag bits.
    pub(crate) fn reset_flags(&mut self, flags: u8) {
        self.flags &= !flags;
    }

    /// The peer's routing id (draft SERVER/PEER), 0 if none.
    pub(crate) fn routing_id(&self) -> u32 {
        self.routing_id
    }

    pub(crate) fn set_routing_id(&mut self, id: u32) {
        self.routing_id = id;
    }

    /// The group (draft RADIO/DISH), empty if none.
    pub(crate) fn group(&self) -> &[u8] {
        self.group_cstr().to_bytes()
    }

    /// The group, NUL-terminated; stable while the message stays where it is.
    pub(crate) fn group_cstr(&self) -> &CStr {
        let n = self.group_len as usize;
        let bytes = if n <= GROUP_INLINE_CAP {
            // SAFETY: short groups are stored inline; any bytes are valid.
            unsafe { &self.group.inline[..n + 1] }
        } else {
            // SAFETY: a long group points at our own n + 1 byte heap copy.
            unsafe { std::slice::from_raw_parts(self.group.heap, n + 1) }
        };
        CStr::from_bytes_with_nul(bytes).unwrap_or(c"")
    }

    /// Sets the group; EINVAL if longer than GROUP_MAX_LENGTH or holding a NUL.
    pub(crate) fn set_group(&mut self, group: &[u8]) -> ZResult<()> {
        if group.len() > GROUP_MAX_LENGTH || group.contains(&0) {
            return err(libc::EINVAL);
        }
        self.release_group();
        if group.len() <= GROUP_INLINE_CAP {
            let mut inline = [0u8; 8];
            inline[..group.len()].copy_from_slice(group);
            self.group = Group { inline };
        } else {
            let mut heap = Vec::with_capacity(group.len() + 1);
            heap.extend_from_slice(group);
            heap.push(0);
            self.group = Group { heap: Box::into_raw(heap.into_boxed_slice()) as *mut u8 };
        }
        self.group_len = group.len() as u8;
        Ok(())
    }

    /// The connection's properties, if the engine attached them.
    pub(crate) fn metadata(&self) -> Option<&Metadata> {
        // SAFETY: a non-NULL pointer is an Arc reference we hold.
        unsafe { self.metadata.as_ref() }
    }

    pub(crate) fn set_metadata(&mut self, metadata: Option<Arc<Metadata>>) {
        self.release_metadata();
        self.metadata = metadata.map_or(ptr::null(), Arc::into_raw);
    }

    /// Gives this message `other`'s connection properties (ROUTER's routing-id part carries
    /// those of the body it introduces, as in libzmq).
    pub(crate) fn share_metadata(&mut self, other: &Msg) {
        let md = if other.metadata.is_null() {
            None
        } else {
            // SAFETY: a non-NULL pointer is an Arc reference `other` holds; we take one more.
            unsafe {
                Arc::increment_strong_count(other.metadata);
                Some(Arc::from_raw(other.metadata))
            }
        };
        self.set_metadata(md);
    }

    /// Whether the body may be shared with another message (ZMQ_SHARED): always for
    /// constant data; for a counted body once copied (sticky, as libzmq) or while clones live.
    pub(crate) fn is_shared(&self) -> bool {
        match self.kind {
            KIND_CONST => true,
            KIND_LARGE => {
                let e = self.ext();
                // SAFETY: a large body's content is live.
                let c = unsafe { &*e.content };
                // A slice of a receive buffer is not shared by a clone (libzmq: 0 too).
                let slice = e.data != c.data || e.len != c.len;
                self.flags & Msg::SHARED != 0 || (!slice && c.refs.load(Ordering::Relaxed) > 1)
            }
            _ => self.flags & Msg::SHARED != 0,
        }
    }

    /// The bytes look like an open message (a cheap guard against closed or stray structs).
    fn is_valid(&self) -> bool {
        // SAFETY: reading a union field as a pointer; any bits are valid.
        if self.group_len as usize > GROUP_INLINE_CAP && unsafe { self.group.heap }.is_null() {
            return false;
        }
        match self.kind {
            KIND_INLINE => self.inline_len as usize <= INLINE_CAP,
            // SAFETY: reading a union field as a pointer; any bits are valid.
            KIND_LARGE => !unsafe { self.body.ext.content }.is_null(),
            KIND_CONST => true,
            _ => false,
        }
    }

    fn release_body(&mut self) {
        if self.kind == KIND_LARGE {
            let c = self.ext().content;
            self.kind = KIND_INLINE;
            self.inline_len = 0;
            // SAFETY: we held one reference and have just forgotten it.
            unsafe { release_content(c) };
        }
    }

    fn release_group(&mut self) {
        let n = self.group_len as usize;
        if n > GROUP_INLINE_CAP {
            // SAFETY: a long group is the Box set_group leaked, n + 1 bytes long.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(self.group.heap, n + 1)) });
        }
        self.group = Group { inline: [0; 8] };
        self.group_len = 0;
    }

    fn release_metadata(&mut self) {
        if !self.metadata.is_null() {
            // SAFETY: the pointer came from Arc::into_raw and we own that reference.
            drop(unsafe { Arc::from_raw(self.metadata) });
            self.metadata = ptr::null();
        }
    }

    /// The open message behind a C pointer, or EFAULT for NULL, misaligned, closed or
    /// unrecognisable structs.
    ///
    /// # Safety
    /// `p` must be NULL or point to 64 readable bytes, and no `&mut` to them may be live.
    pub(crate) unsafe fn from_c<'a, C>(p: *const C) -> ZResult<&'a Msg> {
        const { c_view_fits::<C>() };
        if p.is_null() || !(p as usize).is_multiple_of(align_of::<Msg>()) {
            return err(libc::EFAULT);
        }
        // SAFETY: p is aligned and readable per the contract, and every bit pattern is a
        // valid Msg value (integers, raw pointers, unions of those).
        let m = unsafe { &*(p as *const Msg) };
        if m.is_valid() {
            Ok(m)
        } else {
            err(libc::EFAULT)
        }
    }

    /// As `from_c`, writable.
    ///
    /// # Safety
    /// `p` must be NULL or point to 64 writable bytes no other reference covers.
    pub(crate) unsafe fn from_c_mut<'a, C>(p: *mut C) -> ZResult<&'a mut Msg> {
        const { c_view_fits::<C>() };
        // SAFETY: as for from_c; the caller guarantees exclusivity.
        unsafe { Msg::from_c(p)? };
        // SAFETY: as above.
        Ok(unsafe { &mut *(p as *mut Msg) })
    }

    /// Moves the message out of a C `zmq_msg_t`, leaving it an empty message (as
    /// zmq_msg_send does); EFAULT if the struct is not an open message.
    ///
    /// # Safety
    /// As `from_c_mut`.
    pub(crate) unsafe fn take_from<C>(p: *mut C) -> ZResult<Msg> {
        const { c_view_fits::<C>() };
        // SAFETY: forwarded contract.
        let m = unsafe { Msg::from_c_mut(p)? };
        Ok(std::mem::take(m))
    }

    /// Writes this message into a C `zmq_msg_t` without dropping what was there.
    ///
    /// # Safety
    /// `p` must be non-NULL, aligned and point to 64 writable bytes whose old content the
    /// caller has released or taken.
    pub(crate) unsafe fn put_into<C>(self, p: *mut C) {
        const { c_view_fits::<C>() };
        // SAFETY: per the contract.
        unsafe { ptr::write(p as *mut Msg, self) };
    }

    /// Puts this message into a C `zmq_msg_t` and returns the open message that was there
    /// (for the caller to drop once the struct is consistent again).
    ///
    /// # Safety
    /// `p` must point to a `zmq_msg_t` that `from_c` accepted, with no other reference to
    /// it live.
    pub(crate) unsafe fn replace_in<C>(self, p: *mut C) -> Msg {
        const { c_view_fits::<C>() };
        // SAFETY: per the contract, p is aligned, writable and holds an open message.
        unsafe { ptr::replace(p as *mut Msg, self) }
    }

    /// Marks a C `zmq_msg_t` closed (keeping its flags) and returns what it held.
    ///
    /// # Safety
    /// As `from_c_mut`.
    pub(crate) unsafe fn close_in_place<C>(p: *mut C) -> ZResult<Msg> {
        const { c_view_fits::<C>() };
        // SAFETY: forwarded contract.
        let m = unsafe { Msg::from_c_mut(p)? };
        let flags = m.flags;
        Ok(std::mem::replace(m, Msg::closed(flags)))
    }

    /// Marks a C `zmq_msg_t` closed whatever it held (after a failed init).
    ///
    /// # Safety
    /// `p` must be non-NULL, aligned and point to 64 writable bytes.
    pub(crate) unsafe fn mark_closed<C>(p: *mut C) {
        const { c_view_fits::<C>() };
        // SAFETY: per the contract; nothing there is ours to drop.
        unsafe { Msg::closed(0).put_into(p) };
    }

    /// The flags byte of a C `zmq_msg_t`, open or closed (zmq_msg_more works after close).
    ///
    /// # Safety
    /// `p` must be NULL or point to 64 readable bytes.
    pub(crate) unsafe fn c_flags<C>(p: *const C) -> ZResult<u8> {
        const { c_view_fits::<C>() };
        if p.is_null() || !(p as usize).is_multiple_of(align_of::<Msg>()) {
            return err(libc::EFAULT);
        }
        // SAFETY: p is aligned and readable; the flags byte is a plain u8.
        Ok(unsafe { (*(p as *const Msg)).flags })
    }
}

/// A receive buffer that messages point into without a copy (ZMQ_ZERO_COPY_RECV, as
/// libzmq's shared message allocator): one reference-counted allocation; the decoder holds
/// one reference and every message made from it another, so it is freed (on any thread)
/// when the last of them goes. The decoder only ever writes past what it has lent.
///
/// It is not cleared when allocated (a fresh one per read while messages hold the last):
/// bytes past `init` are uninitialised, written only through raw pointers or by the kernel,
/// and never handed out as a slice before they are.
pub(crate) struct SharedBuf {
    content: *mut Content,
    /// Bytes from the start that messages may point into: never written again.
    lent: usize,
    /// Bytes from the start that are initialised.
    init: usize,
}

// SAFETY: the content is reference-counted atomically and SharedBuf only writes the part
// of it no message points into.
unsafe impl Send for SharedBuf {}

impl SharedBuf {
    /// A buffer of `cap` bytes, none initialised; ENOMEM if they cannot be allocated.
    pub(crate) fn new(cap: usize) -> ZResult<SharedBuf> {
        let c = alloc_content(ptr::null_mut(), cap, Release::Trailing, false);
        if c.is_null() {
            return err(libc::ENOMEM);
        }
        Ok(SharedBuf { content: c, lent: 0, init: 0 })
    }

    fn parts(&self) -> (*mut u8, usize) {
        // SAFETY: we hold a reference, so the content is live; data/len never change.
        unsafe { ((*self.content).data, (*self.content).len) }
    }

    pub(crate) fn len(&self) -> usize {
        self.parts().1
    }

    /// How many bytes from the start hold data (written or cleared).
    pub(crate) fn initialised(&self) -> usize {
        self.init
    }

    /// No message points into the buffer any more: all of it may be written again.
    pub(crate) fn reclaim(&mut self) -> bool {
        // SAFETY: the content is live. Acquire pairs with the messages' releasing drops, so
        // their last reads happen before our writes.
        if unsafe { (*self.content).refs.load(Ordering::Acquire) } == 1 {
            self.lent = 0;
        }
        self.lent == 0
    }

    /// Bytes `range`, for reading (only initialised ones).
    pub(crate) fn get(&self, range: std::ops::Range<usize>) -> &[u8] {
        let (data, _) = self.parts();
        assert!(range.start <= range.end && range.end <= self.init);
        // SAFETY: in bounds, initialised, and nobody writes them while we read: messages
        // only read theirs (C may write its own body, which lies before `lent`, and the
        // decoder only reads past what it lent).
        unsafe { std::slice::from_raw_parts(data.add(range.start), range.len()) }
    }

    /// Bytes `from..`, for writing: only past everything lent to messages. The tests and
    /// fuzz targets write this way; the rest not yet initialised is cleared first, once.
    pub(crate) fn spare_mut(&mut self, from: usize) -> &mut [u8] {
        let (data, len) = self.parts();
        assert!(from >= self.lent && from <= len, "writing over bytes lent to a message");
        if self.init < len {
            // SAFETY: init..len is within the buffer, and no message points there.
            unsafe { ptr::write_bytes(data.add(self.init), 0, len - self.init) };
            self.init = len;
        }
        // SAFETY: in bounds and initialised; no message points at or past `lent`, and we
        // are the only writer.
        unsafe { std::slice::from_raw_parts_mut(data.add(from), len - from) }
    }

    /// Copies `src` in at `at` (past everything lent).
    pub(crate) fn write_at(&mut self, at: usize, src: &[u8]) {
        let (data, len) = self.parts();
        assert!(at >= self.lent && at <= len && src.len() <= len - at, "write out of place");
        // SAFETY: in bounds, past what is lent, and we are the only writer; a raw copy
        // forms no reference to uninitialised bytes. `src` cannot overlap: it is borrowed
        // from elsewhere (a shared borrow of this buffer would conflict with &mut self).
        unsafe { ptr::copy_nonoverlapping(src.as_ptr(), data.add(at), src.len()) };
        if at <= self.init {
            self.init = self.init.max(at + src.len());
        }
    }

    /// Reads into bytes `from..` (past everything lent) from `sock` (one `recv`) without
    /// clearing them first: the kernel writes every byte it reports.
    pub(crate) fn recv(&mut self, from: usize, sock: &socket2::Socket) -> std::io::Result<usize> {
        let (data, len) = self.parts();
        assert!(from >= self.lent && from <= len, "reading over bytes lent to a message");
        // SAFETY: in bounds and past what is lent, and we are the only writer; as
        // MaybeUninit the slice claims nothing about their contents.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(
                data.add(from) as *mut std::mem::MaybeUninit<u8>,
                len - from,
            )
        };
        let n = sock.recv(spare)?;
        // socket2's recv initialises the first n bytes (the kernel's count); bytes from
        // init to `from`, if any, were not, so the mark only moves over a contiguous run.
        if from <= self.init {
            self.init = self.init.max(from + n.min(len - from));
        }
        Ok(n)
    }

    /// A buffer of `cap` bytes; aborts like `Vec` if memory runs out.
    pub(crate) fn with_capacity(cap: usize) -> SharedBuf {
        match SharedBuf::new(cap) {
            Ok(b) => b,
            Err(_) => alloc::handle_alloc_error(Layout::array::<u8>(cap).unwrap()),
        }
    }

    /// Moves bytes `range` (initialised ones) to the front (compaction); only when nothing
    /// is lent.
    pub(crate) fn move_to_front(&mut self, range: std::ops::Range<usize>) {
        assert!(self.lent == 0, "moving bytes over a lent body");
        assert!(range.start <= range.end && range.end <= self.init);
        let (data, _) = self.parts();
        // SAFETY: both ranges are within the initialised bytes; nothing is lent and we
        // are the only writer; ptr::copy allows the overlap.
        unsafe { ptr::copy(data.add(range.start), data, range.len()) };
    }

    /// A message whose body is bytes `off..off + len` of this buffer, without a copy.
    pub(crate) fn msg(&mut self, off: usize, len: usize) -> Msg {
        let (data, _) = self.parts();
        assert!(off <= self.init && len <= self.init - off, "lending uninitialised bytes");
        // SAFETY: the content is live; the new reference is owned by the message.
        unsafe { (*self.content).refs.fetch_add(1, Ordering::Relaxed) };
        self.lent = self.lent.max(off + len);
        // SAFETY: off + len <= cap.
        Msg::large(unsafe { data.add(off) }, len, self.content)
    }
}

impl Drop for SharedBuf {
    fn drop(&mut self) {
        // SAFETY: we hold one reference.
        unsafe { release_content(self.content) };
    }
}

/// A body of a known size being filled front to back (the decoder's frame in progress).
/// The bytes past those filled are not initialised until handed out, so only this type
/// touches them: it copies in through raw pointers, zeroes what it lends as a slice, and
/// gives the message out only whole.
pub(crate) struct Filling {
    msg: Msg,
    /// Bytes written from the front.
    filled: usize,
    /// Bytes initialised from the front (filled, or zeroed to be lent): `filled..init` is
    /// zeros.
    init: usize,
}

/// From this size on, a body being filled is allocated zeroed up front: the allocator then
/// takes fresh (already zero) pages from the OS instead of clearing them.
const FILL_ZEROED_FROM: usize = 128 * 1024;

impl Filling {
    /// A body of `len` bytes to fill; ENOMEM if they cannot be allocated.
    pub(crate) fn new(len: usize) -> ZResult<Filling> {
        let zeroed = len >= FILL_ZEROED_FROM;
        let msg = Msg::alloc(len, zeroed)?;
        // Inline bodies start zeroed too (Msg::new).
        let init = if zeroed || len <= INLINE_CAP { len } else { 0 };
        Ok(Filling { msg, filled: 0, init })
    }

    /// Bytes still to fill.
    pub(crate) fn remaining(&self) -> usize {
        self.msg.len() - self.filled
    }

    /// Appends as much of `src` as fits; returns how many bytes were taken.
    pub(crate) fn push(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(self.remaining());
        if n > 0 {
            // SAFETY: the body is ours alone (never cloned while filling) and valid for
            // len bytes; filled + n <= len. Raw copy: no reference to the uninitialised
            // destination is formed.
            unsafe {
                ptr::copy_nonoverlapping(src.as_ptr(), self.msg.data_ptr().add(self.filled), n)
            };
            self.filled += n;
            self.init = self.init.max(self.filled);
        }
        n
    }

    /// The unfilled rest of the body as a slice to read into (zeroed first, once), for
    /// bodies large enough to skip the batch buffer. Report what was written with
    /// `advance`.
    pub(crate) fn spare_mut(&mut self) -> &mut [u8] {
        self.zero_rest();
        let (len, filled) = (self.msg.len(), self.filled);
        if filled == len {
            return &mut [];
        }
        // SAFETY: the body is ours alone and valid for len bytes, all initialised now.
        unsafe { std::slice::from_raw_parts_mut(self.msg.data_ptr().add(filled), len - filled) }
    }

    /// Reads into the unfilled rest of the body from `sock` (one `recv`) without clearing
    /// it first: the kernel writes every byte it reports. Report them with `advance`.
    pub(crate) fn recv(&mut self, sock: &socket2::Socket) -> std::io::Result<usize> {
        let (len, filled) = (self.msg.len(), self.filled);
        // SAFETY: the body is ours alone and valid for len bytes (filled <= len); as
        // MaybeUninit the slice claims nothing about their contents.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(
                self.msg.data_ptr().add(filled) as *mut std::mem::MaybeUninit<u8>,
                len - filled,
            )
        };
        let n = sock.recv(spare)?;
        // socket2's recv initialises the first n bytes (the kernel's count).
        self.init = self.init.max(filled + n.min(len - filled));
        Ok(n)
    }

    /// `n` bytes were written at the front of the last `spare_mut` or `recv`.
    pub(crate) fn advance(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.init);
    }

    /// The message; any bytes not filled read as zeros.
    pub(crate) fn into_msg(mut self) -> Msg {
        self.zero_rest();
        std::mem::take(&mut self.msg)
    }

    fn zero_rest(&mut self) {
        let len = self.msg.len();
        if self.init < len {
            // SAFETY: as in push; init < len, so the range is within the body.
            unsafe { ptr::write_bytes(self.msg.data_ptr().add(self.init), 0, len - self.init) };
            self.init = len;
        }
    }
}

impl Default for Msg {
    fn default() -> Msg {
        Msg::new()
    }
}

impl Clone for Msg {
    /// Shares a large body (counted) or constant data, copies an inline one.
    fn clone(&self) -> Msg {
        let mut flags = self.flags;
        if self.kind == KIND_LARGE {
            // SAFETY: our own reference keeps the content alive while we add one.
            let old = unsafe { (*self.ext().content).refs.fetch_add(1, Ordering::Relaxed) };
            if old > isize::MAX as usize {
                std::process::abort();
            }
            flags |= Msg::SHARED;
        }
        if !self.metadata.is_null() {
            // SAFETY: the pointer came from Arc::into_raw and our reference is live.
            unsafe { Arc::increment_strong_count(self.metadata) };
        }
        let mut m = Msg {
            metadata: self.metadata,
            body: self.body,
            group: Group { inline: [0; 8] },
            routing_id: self.routing_id,
            kind: self.kind,
            flags,
            inline_len: self.inline_len,
            group_len: 0,
        };
        if self.group_len > 0 {
            m.set_group(self.group()).expect("a set group is always valid");
        }
        m
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        // Only a long group owns memory; short ones need no clearing in a dying message.
        if self.group_len as usize > GROUP_INLINE_CAP {
            self.release_group();
        }
        self.release_metadata();
        // Last, as it may run a user free function that re-enters the API.
        self.release_body();
    }
}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            KIND_INLINE => "inline",
            KIND_LARGE => "large",
            KIND_CONST => "const",
            _ => "closed",
        };
        f.debug_struct("Msg")
            .field("kind", &kind)
            .field("len", &self.len())
            .field("flags", &self.flags)
            .field("routing_id", &self.routing_id)
            .field("group", &self.group_cstr())
            .finish()
    }
}

/// A connection's properties (ZMTP READY/INITIATE, ZAP, Peer-Address), shared by every
/// message received on it; zmq_msg_gets points into it.
#[derive(Default, Debug)]
pub(crate) struct Metadata {
    props: Vec<(Vec<u8>, CString)>,
}

impl Metadata {
    pub(crate) fn new() -> Metadata {
        Metadata::default()
    }

    /// Sets a property; a value is cut at its first NUL, as C will read it.
    pub(crate) fn insert(&mut self, name: &[u8], value: &[u8]) {
        let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
        let value = CString::new(&value[..end]).expect("no NUL before end");
        match self.props.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.props.push((name.to_vec(), value)),
        }
    }

    /// A property's value; "Identity" is libzmq's old name for "Routing-Id".
    pub(crate) fn get(&self, name: &[u8]) -> Option<&CStr> {
        let found = self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_c_str());
        match found {
            None if name == b"Identity" => self.get(b"Routing-Id"),
            f => f,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stands in for capi's zmq_msg_t: 64 pointer-aligned bytes.
    type CMsg = [u64; 8];
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;

    #[test]
    fn filling_receives_into_uninitialised_memory() {
        use std::io::Write;
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let sender = {
            let body = body.clone();
            std::thread::spawn(move || a.write_all(&body).unwrap())
        };
        let mut f = Filling::new(body.len()).unwrap();
        let sock = socket2::SockRef::from(&b);
        while f.remaining() > 0 {
            let n = f.recv(&sock).unwrap();
            assert!(n > 0);
            f.advance(n);
        }
        sender.join().unwrap();
        assert_eq!(f.into_msg().data(), &body[..]);
    }

    #[test]
    fn shared_buf_receives_into_uninitialised_memory() {
        use std::io::Write;
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let sock = socket2::SockRef::from(&b);
        let mut buf = SharedBuf::new(64).unwrap();
        assert_eq!(buf.initialised(), 0);
        a.write_all(b"hello, world").unwrap();
        assert_eq!(buf.recv(0, &sock).unwrap(), 12);
        assert_eq!(buf.initialised(), 12);
        assert_eq!(buf.get(0..12), b"hello, world");
        // Lend a part; reads and writes go on past it.
        let m = buf.msg(7, 5);
        assert_eq!(m.data(), b"world");
        a.write_all(b"!!").unwrap();
        assert_eq!(buf.recv(12, &sock).unwrap(), 2);
        assert_eq!(buf.get(10..14), b"ld!!");
        assert!(!buf.reclaim(), "a message still points into it");
        drop(m);
        assert!(buf.reclaim());
        buf.move_to_front(7..14);
        assert_eq!(buf.get(0..7), b"world!!");
        // Copied in elsewhere, then handed out as a slice: the rest reads as zeros.
        let mut fresh = SharedBuf::new(16).unwrap();
        fresh.write_at(0, buf.get(0..7));
        assert_eq!(fresh.initialised(), 7);
        assert_eq!(fresh.spare_mut(7), &[0u8; 9][..]);
        assert_eq!(fresh.initialised(), 16);
        assert_eq!(fresh.get(0..7), b"world!!");
    }

    #[test]
    #[should_panic(expected = "lending uninitialised bytes")]
    fn shared_buf_lends_only_initialised_bytes() {
        let mut buf = SharedBuf::new(64).unwrap();
        buf.write_at(0, b"abc");
        let _ = buf.msg(0, 4);
    }

    #[test]
    fn trim_front_drops_leading_bytes() {
        let body: Vec<u8> = (0..200u8).collect();
        for len in [0usize, 1, 10, 40, 41, 200] {
            for n in [0usize, 1, 5, 40, 300] {
                let mut m = Msg::from_slice(&body[..len]);
                let shared = m.clone();
                m.trim_front(n);
                assert_eq!(m.data(), &body[n.min(len)..len]);
                // A clone sharing the body keeps all of it.
                assert_eq!(shared.data(), &body[..len]);
                let mut v = Msg::from_vec(body[..len].to_vec());
                v.trim_front(n);
                assert_eq!(v.data(), &body[n.min(len)..len]);
            }
        }
    }

    #[test]
    fn filling_copies_and_lends_then_gives_the_whole_body() {
        // Small (inline), mid-size (lazily zeroed when lent) and zeroed-up-front sizes.
        for len in [5usize, 1000, FILL_ZEROED_FROM + 3] {
            let want: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
            let mut f = Filling::new(len).unwrap();
            let head = len / 3;
            assert_eq!(f.push(&want[..head]), head);
            let spare = f.spare_mut();
            assert_eq!(spare.len(), len - head);
            assert!(spare.iter().all(|&b| b == 0), "lent bytes are initialised");
            let mid = (len - head) / 2;
            spare[..mid].copy_from_slice(&want[head..head + mid]);
            f.advance(mid);
            // More input than room: only what fits is taken.
            let mut tail = want[head + mid..].to_vec();
            tail.extend_from_slice(b"extra");
            assert_eq!(f.push(&tail), len - head - mid);
            assert_eq!(f.remaining(), 0);
            assert!(f.spare_mut().is_empty());
            assert_eq!(f.into_msg().data(), &want[..]);
        }
    }

    #[test]
    fn filling_given_out_early_reads_zeros_and_dropping_is_fine() {
        let mut f = Filling::new(300).unwrap();
        f.push(b"abc");
        let m = f.into_msg();
        assert_eq!(&m.data()[..3], b"abc");
        assert!(m.data()[3..].iter().all(|&b| b == 0));
        let mut f = Filling::new(5000).unwrap();
        f.push(&[1; 10]);
        drop(f);
        assert!(Filling::new(usize::MAX / 2).is_err());
    }

    #[test]
    fn inline_and_large() {
        let m = Msg::from_slice(b"hello");
        assert_eq!(m.kind, KIND_INLINE);
        assert_eq!(m.data(), b"hello");
        let base = &m as *const Msg as usize;
        let d = m.data().as_ptr() as usize;
        assert!(d >= base && d < base + 64, "small body lives inside the struct");

        let full = Msg::from_slice(&[7u8; INLINE_CAP]);
        assert_eq!(full.kind, KIND_INLINE);
        assert_eq!(full.data(), &[7u8; INLINE_CAP]);

        let big: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let m = Msg::from_slice(&big);
        assert_eq!(m.kind, KIND_LARGE);
        assert_eq!(m.data(), &big[..]);
        assert!(!m.is_shared());

        let v = big.clone();
        let vp = v.as_ptr();
        let m = Msg::from_vec(v);
        assert_eq!(m.data().as_ptr(), vp, "from_vec keeps a large buffer");
        assert_eq!(m.data(), &big[..]);

        let z = Msg::with_size(100_000).unwrap();
        assert_eq!(z.len(), 100_000);
        assert!(z.data().iter().all(|&b| b == 0));
        assert!(Msg::with_size(usize::MAX / 2).is_err());
        assert!(Msg::new().is_empty());
        assert_eq!(Msg::with_size(3).unwrap().data(), &[0, 0, 0]);
    }

    #[test]
    fn clone_shares_large_and_copies_small() {
        let big = vec![1u8; 100];
        let a = Msg::from_vec(big);
        let b = a.clone();
        assert_eq!(a.data().as_ptr(), b.data().as_ptr());
        assert!(a.is_shared() && b.is_shared());
        drop(b);
        assert!(!a.is_shared(), "a Rust clone is gone; no sticky flag on the source");

        let s = Msg::from_slice(b"abc");
        let t = s.clone();
        assert_ne!(s.data().as_ptr(), t.data().as_ptr());
        assert_eq!(t.data(), b"abc");
        assert!(!t.is_shared());

        // SAFETY: a static literal outlives every clone.
        let c = unsafe { Msg::from_const(b"const".as_ptr(), 5) };
        let d = c.clone();
        assert_eq!(d.data().as_ptr(), b"const".as_ptr());
        assert!(c.is_shared() && d.is_shared());
    }

    #[test]
    fn data_mut_copies_when_shared() {
        let mut a = Msg::from_vec(vec![1u8; 100]);
        let p = a.data().as_ptr();
        a.data_mut()[0] = 2;
        assert_eq!(a.data().as_ptr(), p, "unique body written in place");
        let b = a.clone();
        a.data_mut()[0] = 3;
        assert_eq!(b.data()[0], 2);
        assert_eq!(a.data()[0], 3);
        assert!(!a.is_shared());
        // SAFETY: a static literal; data_mut copies before writing.
        let mut c = unsafe { Msg::from_const(b"0123456789".as_ptr(), 10) };
        c.data_mut()[0] = b'x';
        assert_eq!(c.data(), b"x123456789");
    }

    static FREED: AtomicUsize = AtomicUsize::new(0);
    static FREED_ON: Mutex<Option<std::thread::ThreadId>> = Mutex::new(None);

    unsafe extern "C" fn count_free(data: *mut c_void, hint: *mut c_void) {
        assert_eq!(hint as usize, 0x1234);
        *FREED_ON.lock().unwrap() = Some(std::thread::current().id());
        // SAFETY: the test allocated data as a Box<[u8; 64]>.
        drop(unsafe { Box::from_raw(data as *mut [u8; 64]) });
        FREED.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn free_fn_runs_once_on_last_thread() {
        let buf = Box::into_raw(Box::new([5u8; 64])) as *mut u8;
        let hint = 0x1234 as *mut c_void;
        // SAFETY: buf is a live 64-byte Box that count_free frees.
        let a = unsafe { Msg::from_user_buffer(buf, 64, count_free, hint) }.unwrap();
        let b = a.clone();
        let c = b.clone();
        assert_eq!(c.data().as_ptr(), buf);
        drop(a);
        drop(c);
        assert_eq!(FREED.load(Ordering::SeqCst), 0);
        let t = std::thread::spawn(move || {
            assert_eq!(b.data(), &[5u8; 64]);
            drop(b);
            std::thread::current().id()
        });
        let tid = t.join().unwrap();
        assert_eq!(FREED.load(Ordering::SeqCst), 1);
        assert_eq!(*FREED_ON.lock().unwrap(), Some(tid));
    }

    /// Clones dropped at once on several threads: exactly one drop frees (the others
    /// decrement), whichever of them sees the count at 1 first; never two, never none.
    #[test]
    fn concurrent_drops_free_once() {
        static RACE_FREED: AtomicUsize = AtomicUsize::new(0);
        unsafe extern "C" fn race_free(data: *mut c_void, _hint: *mut c_void) {
            // SAFETY: the test allocated data as a Box<[u8; 64]>.
            drop(unsafe { Box::from_raw(data as *mut [u8; 64]) });
            RACE_FREED.fetch_add(1, Ordering::SeqCst);
        }
        const ROUNDS: usize = 300;
        for round in 0..ROUNDS {
            let buf = Box::into_raw(Box::new([7u8; 64])) as *mut u8;
            // SAFETY: buf is a live 64-byte Box that race_free frees.
            let m = unsafe { Msg::from_user_buffer(buf, 64, race_free, ptr::null_mut()) }.unwrap();
            let go = Arc::new(std::sync::Barrier::new(4));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (c, go) = (m.clone(), go.clone());
                    std::thread::spawn(move || {
                        go.wait();
                        assert_eq!(c.data()[63], 7);
                        drop(c);
                    })
                })
                .collect();
            drop(m);
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(RACE_FREED.load(Ordering::SeqCst), round + 1);
        }
    }

    #[test]
    fn bitwise_move_keeps_working() {
        let mut slots = [const { MaybeBytes([0u8; 64]) }; 2];
        for body in [&b"tiny"[..], &[9u8; 500][..]] {
            let m = Msg::from_slice(body);
            let mut g = m;
            g.set_group(b"grp").unwrap();
            g.set_routing_id(77);
            let p0 = slots[0].0.as_mut_ptr() as *mut CMsg;
            let p1 = slots[1].0.as_mut_ptr() as *mut CMsg;
            // SAFETY: p0/p1 are aligned 64-byte slots this test owns; each holds at most one message.
            unsafe {
                g.put_into(p0);
                // What C does: copy the 64 bytes elsewhere and forget the original.
                ptr::copy_nonoverlapping(p0 as *const u8, p1 as *mut u8, 64);
                ptr::write_bytes(p0 as *mut u8, 0xee, 64);
                let m = Msg::from_c(p1).unwrap();
                assert_eq!(m.data(), body);
                assert_eq!(m.group(), b"grp");
                assert_eq!(m.routing_id(), 77);
                let taken = Msg::take_from(p1).unwrap();
                assert_eq!(taken.data(), body);
                assert_eq!(Msg::from_c(p1).unwrap().len(), 0);
            }
        }
    }

    #[repr(align(8))]
    struct MaybeBytes([u8; 64]);

    #[test]
    fn closed_detection() {
        let mut raw = MaybeBytes([0u8; 64]);
        let p = raw.0.as_mut_ptr() as *mut CMsg;
        // SAFETY: p is an aligned 64-byte slot this test owns (odd is only validated, not read).
        unsafe {
            assert!(Msg::from_c(p).is_err(), "zeroed struct is not a message");
            assert!(Msg::from_c(ptr::null::<CMsg>()).is_err());
            let mut m = Msg::from_slice(b"x");
            m.set_more(true);
            m.put_into(p);
            assert!(Msg::from_c(p).is_ok());
            drop(Msg::close_in_place(p).unwrap());
            assert_eq!(Msg::close_in_place(p).unwrap_err().0, libc::EFAULT);
            assert_eq!(Msg::c_flags(p).unwrap() & Msg::MORE, Msg::MORE);
            assert!(Msg::take_from(p).is_err());
            let odd = (p as *mut u8).add(1) as *mut CMsg;
            assert!(Msg::from_c(odd).is_err(), "misaligned");
        }
    }

    #[test]
    fn groups_and_metadata() {
        let mut m = Msg::new();
        assert_eq!(m.group_cstr(), c"");
        m.set_group(b"1234567").unwrap();
        assert_eq!(m.group(), b"1234567");
        let base = &m as *const Msg as usize;
        let g = m.group_cstr().as_ptr() as usize;
        assert!(g >= base && g < base + 64, "short group inline");
        let long = vec![b'g'; GROUP_MAX_LENGTH];
        m.set_group(&long).unwrap();
        assert_eq!(m.group(), &long[..]);
        let n = m.clone();
        assert_eq!(n.group(), &long[..]);
        assert_ne!(n.group().as_ptr(), m.group().as_ptr());
        assert!(m.set_group(&[b'g'; GROUP_MAX_LENGTH + 1]).is_err());
        assert!(m.set_group(b"a\0b").is_err());
        m.set_group(b"").unwrap();
        assert_eq!(m.group(), b"");

        let mut md = Metadata::new();
        md.insert(b"Socket-Type", b"DEALER");
        md.insert(b"Routing-Id", b"abc\0def");
        md.insert(b"Socket-Type", b"ROUTER");
        assert_eq!(md.get(b"Socket-Type"), Some(c"ROUTER"));
        let md = Arc::new(md);
        m.set_metadata(Some(md.clone()));
        let c = m.clone();
        assert_eq!(Arc::strong_count(&md), 3);
        assert_eq!(c.metadata().unwrap().get(b"Socket-Type"), Some(c"ROUTER"));
        assert_eq!(c.metadata().unwrap().get(b"Identity"), Some(c"abc"));
        assert_eq!(c.metadata().unwrap().get(b"X-Nope"), None);
        drop(c);
        drop(m);
        assert_eq!(Arc::strong_count(&md), 1);
    }

    #[test]
    fn flags() {
        let mut m = Msg::new();
        m.set_more(true);
        assert!(m.more());
        m.set_flags(Msg::ROUTING_ID);
        m.reset_flags(Msg::MORE);
        assert!(!m.more());
        assert_eq!(m.flags(), Msg::ROUTING_ID);
    }
}
