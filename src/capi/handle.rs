//! Opaque handles that survive misuse.
//!
//! A handle given to C points at a `Slot`, whose memory is never freed: a closed slot keeps
//! a dead tag and waits on a free list for reuse. A stale or doubly closed handle therefore
//! reads a dead tag and fails with EFAULT/ENOTSOCK instead of touching freed memory, which
//! pyzmq relies on (its free callbacks may call into a socket that was already closed).

use parking_lot::Mutex;
use std::os::raw::c_void;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

const DEAD: u32 = 0xdead_0000;

/// One handle: a tag saying what lives here, and the object itself.
#[repr(C)]
pub(crate) struct Slot<T> {
    tag: AtomicU32,
    obj: AtomicPtr<T>,
}

/// A kind of handle (contexts, sockets, pollers, ...), with its own tag and free list.
pub(crate) struct Registry<T> {
    tag: u32,
    free: Mutex<Vec<usize>>,
    _marker: std::marker::PhantomData<fn(T)>,
}

impl<T: 'static> Registry<T> {
    pub(crate) const fn new(tag: u32) -> Self {
        Registry { tag, free: Mutex::new(Vec::new()), _marker: std::marker::PhantomData }
    }

    /// Publishes `obj` and returns the handle C will hold.
    pub(crate) fn insert(&self, obj: Box<T>) -> *mut c_void {
        let slot: &'static Slot<T> = match self.free.lock().pop() {
            // SAFETY: the free list only holds addresses of leaked, never-freed slots.
            Some(addr) => unsafe { &*(addr as *const Slot<T>) },
            None => Box::leak(Box::new(Slot {
                tag: AtomicU32::new(DEAD),
                obj: AtomicPtr::new(std::ptr::null_mut()),
            })),
        };
        slot.obj.store(Box::into_raw(obj), Ordering::Release);
        slot.tag.store(self.tag, Ordering::Release);
        slot as *const Slot<T> as *mut c_void
    }

    /// The object behind a live handle, or None for NULL, misaligned or dead handles.
    ///
    /// # Safety
    /// `h` must be NULL or a pointer this registry returned (the slot memory is never freed,
    /// so a stale one is fine). The caller must not keep the reference past `remove`.
    pub(crate) unsafe fn get<'a>(&self, h: *mut c_void) -> Option<&'a T> {
        if h.is_null() || !(h as usize).is_multiple_of(std::mem::align_of::<Slot<T>>()) {
            return None;
        }
        // SAFETY: per the contract, h points at a never-freed Slot<T>.
        let slot = unsafe { &*(h as *const Slot<T>) };
        if slot.tag.load(Ordering::Acquire) != self.tag {
            return None;
        }
        let p = slot.obj.load(Ordering::Acquire);
        // SAFETY: a live tag means obj holds the Box published by insert.
        unsafe { p.as_ref() }
    }

    /// Kills a live handle and hands back its object; None if it was not live.
    ///
    /// # Safety
    /// As for `get`.
    pub(crate) unsafe fn remove(&self, h: *mut c_void) -> Option<Box<T>> {
        if h.is_null() || !(h as usize).is_multiple_of(std::mem::align_of::<Slot<T>>()) {
            return None;
        }
        // SAFETY: per the contract, h points at a never-freed Slot<T>.
        let slot = unsafe { &*(h as *const Slot<T>) };
        if slot.tag.compare_exchange(self.tag, DEAD, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return None;
        }
        let p = slot.obj.swap(std::ptr::null_mut(), Ordering::AcqRel);
        self.free.lock().push(h as usize);
        // SAFETY: p came from Box::into_raw in insert and the tag swap made us its only owner.
        Some(unsafe { Box::from_raw(p) })
    }
}
